package plugin

/*
#include "lk.h"
*/
import "C"

import (
	"unsafe"

	"github.com/go-gst/go-glib/glib"
	"github.com/go-gst/go-gst/gst"
)

// GetChildByName makes "signaller::ws-url=..." work (gst-launch,
// gst_child_proxy_set, Gst.ChildProxy.lookup). Like livekitwebrtcsink it
// also resolves pad names; anything else is looked up among the bin's
// internal elements. The vfunc is transfer full, so every return carries
// its own reference (go-gst does not add one, docs/architecture.md, "go-gst v1.4.0").
// Children count/index stay GstBin's.
func (e *element) GetChildByName(self *gst.ChildProxy, name string) (ret *glib.Object) {
	defer returnToC(e.gst, "child-proxy")
	if name == "signaller" {
		e.mu.Lock()
		defer e.mu.Unlock()
		if e.sigObj == nil {
			return nil
		}
		return e.sigObj.Ref()
	}
	var obj unsafe.Pointer
	withCString(name, func(n *C.char) {
		if pad := C.gst_element_get_static_pad(e.gst, n); pad != nil {
			obj = unsafe.Pointer(pad)
		} else if el := C.gst_bin_get_by_name(asBin(e.gst), n); el != nil {
			obj = unsafe.Pointer(el)
		}
	})
	if obj == nil {
		return nil
	}
	return &glib.Object{GObject: glib.ToGObject(obj)} // owns the ref taken above
}
