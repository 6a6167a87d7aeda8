package plugin

/*
#include "lk.h"
*/
import "C"

import (
	"fmt"
	"unsafe"

	"github.com/pion/logging"
)

// pionLogs sends pion's log lines to the golivekit-pion debug category, with
// pion's levels mapped onto GStreamer's and the pion scope (ice, dtls, pc, …)
// at the start of each line. Without it pion prints errors to stderr, where a
// GStreamer user does not look.
type pionLogs struct{ el *C.GstElement }

func (f pionLogs) NewLogger(scope string) logging.LeveledLogger {
	return pionLogger{el: f.el, scope: scope}
}

type pionLogger struct {
	el    *C.GstElement
	scope string
}

func (l pionLogger) log(level C.GstDebugLevel, msg string) {
	if !levelOn(&pionThreshold, level) {
		return
	}
	withCString(l.scope+": "+msg, func(c *C.char) {
		C.lk_pion_log(level, (*C.GObject)(unsafe.Pointer(l.el)), c)
	})
}

func (l pionLogger) logf(level C.GstDebugLevel, format string, args []any) {
	if levelOn(&pionThreshold, level) {
		l.log(level, fmt.Sprintf(format, args...))
	}
}

func (l pionLogger) Trace(msg string)                  { l.log(C.GST_LEVEL_TRACE, msg) }
func (l pionLogger) Tracef(format string, args ...any) { l.logf(C.GST_LEVEL_TRACE, format, args) }
func (l pionLogger) Debug(msg string)                  { l.log(C.GST_LEVEL_DEBUG, msg) }
func (l pionLogger) Debugf(format string, args ...any) { l.logf(C.GST_LEVEL_DEBUG, format, args) }
func (l pionLogger) Info(msg string)                   { l.log(C.GST_LEVEL_INFO, msg) }
func (l pionLogger) Infof(format string, args ...any)  { l.logf(C.GST_LEVEL_INFO, format, args) }
func (l pionLogger) Warn(msg string)                   { l.log(C.GST_LEVEL_WARNING, msg) }
func (l pionLogger) Warnf(format string, args ...any)  { l.logf(C.GST_LEVEL_WARNING, format, args) }
func (l pionLogger) Error(msg string)                  { l.log(C.GST_LEVEL_ERROR, msg) }
func (l pionLogger) Errorf(format string, args ...any) { l.logf(C.GST_LEVEL_ERROR, format, args) }
