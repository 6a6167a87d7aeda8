package plugin

import (
	"os"
	"strconv"
)

// Temporary until the pad class with its properties is merged (padprops).
func (p *sinkPad) simulcastLayerCount() int {
	n, _ := strconv.Atoi(os.Getenv("GLK_TMP_" + p.name + "_LAYERS"))
	return max(n, 1)
}
func (p *sinkPad) simulcastGroup() string { return os.Getenv("GLK_TMP_" + p.name + "_GROUP") }
func (p *sinkPad) simulcastLayer() string { return os.Getenv("GLK_TMP_" + p.name + "_LAYER") }
