package plugin

/*
#include "lk.h"
*/
import "C"

import (
	"fmt"
	"sync/atomic"
	"unsafe"
)

// The thresholds of the golivekitsink and golivekit-pion categories, read
// in place (log.c says why): nil until initLogThresholds.
var lkThreshold, pionThreshold atomic.Pointer[int32]

// initLogThresholds runs once the categories exist (plugin init).
func initLogThresholds() {
	lkThreshold.Store((*int32)(unsafe.Pointer(C.lk_debug_threshold())))
	pionThreshold.Store((*int32)(unsafe.Pointer(C.lk_pion_debug_threshold())))
}

func levelOn(threshold *atomic.Pointer[int32], level C.GstDebugLevel) bool {
	t := threshold.Load()
	return t != nil && atomic.LoadInt32(t) >= int32(level)
}

func logEnabled(level C.GstDebugLevel) bool { return levelOn(&lkThreshold, level) }

// logAt writes one line to the golivekitsink debug category; el (may be
// nil) makes GStreamer prefix the line with the element's name.
func logAt(level C.GstDebugLevel, el *C.GstElement, msg string) {
	logFrom(level, el, plugWhere, msg)
}

// The "function" column of the debug log says who wrote the line.
var (
	plugWhere    = C.CString("plugin")
	sessionWhere = C.CString("session")
)

func logFrom(level C.GstDebugLevel, el *C.GstElement, where *C.char, msg string) {
	if !logEnabled(level) {
		return
	}
	withCString(msg, func(c *C.char) {
		C.lk_log(level, (*C.GObject)(unsafe.Pointer(el)), where, c)
	})
}

func (e *element) debugf(format string, args ...any) {
	if logEnabled(C.GST_LEVEL_DEBUG) {
		logAt(C.GST_LEVEL_DEBUG, e.gst, fmt.Sprintf(format, args...))
	}
}

func (e *element) infof(format string, args ...any) {
	if logEnabled(C.GST_LEVEL_INFO) {
		logAt(C.GST_LEVEL_INFO, e.gst, fmt.Sprintf(format, args...))
	}
}

func (e *element) warnf(format string, args ...any) {
	if logEnabled(C.GST_LEVEL_WARNING) {
		logAt(C.GST_LEVEL_WARNING, e.gst, fmt.Sprintf(format, args...))
	}
}

// sessionLogger is the session.Logger of one element: the session's lines
// go to the golivekitsink category, prefixed with the element name. The
// session is responsible for never formatting secrets into them.
type sessionLogger struct{ el *C.GstElement }

func (l sessionLogger) logf(level C.GstDebugLevel, format string, args []any) {
	if logEnabled(level) {
		logFrom(level, l.el, sessionWhere, fmt.Sprintf(format, args...))
	}
}

func (l sessionLogger) Debugf(format string, args ...any) { l.logf(C.GST_LEVEL_DEBUG, format, args) }
func (l sessionLogger) Infof(format string, args ...any)  { l.logf(C.GST_LEVEL_INFO, format, args) }
func (l sessionLogger) Warnf(format string, args ...any)  { l.logf(C.GST_LEVEL_WARNING, format, args) }
func (l sessionLogger) Errorf(format string, args ...any) { l.logf(C.GST_LEVEL_ERROR, format, args) }
