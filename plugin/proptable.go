package plugin

/*
#include "lk.h"
*/
import "C"

import (
	"unsafe"

	"github.com/go-gst/go-glib/glib"
)

// property declares one GObject property of the element (S = *element) or
// of the signaller (S = *signaller), once: its param spec, how a value is
// stored and read back, and its row in docs/properties.md. The tables
// elementProperties (properties.go) and signallerProperties
// (signaller_object.go) are the only place a property is declared; the
// index in its table is the property id.
type property[S any] struct {
	name, nick, blurb string
	flags             C.GParamFlags
	value             valueSpec
	set               func(s S, v *C.GValue) // called with the owner's lock held, unless unlocked
	get               func(s S) *glib.Value  // nil result: NULL
	// unlocked: set and get take the locks they need themselves.
	unlocked bool
	doc      propDoc
}

// propDoc is what docs/properties.md says beyond the param spec.
type propDoc struct {
	use  string // the "In golivekitsink" column
	unit string // shown with the type, e.g. "s"
	def  string // the default column, when a new object's value is not the spec's default
}

const (
	pRW      = C.G_PARAM_READWRITE
	pRO      = C.G_PARAM_READABLE
	pReady   = C.GST_PARAM_MUTABLE_READY
	pPlaying = C.GST_PARAM_MUTABLE_PLAYING
	rwReady  = C.GParamFlags(pRW | pReady)
	rwAny    = C.GParamFlags(pRW | pPlaying)
)

// installProperties installs a table's param specs; the C strings are
// copied by GLib (no G_PARAM_STATIC_STRINGS) and freed here.
func installProperties[S any](klass *glib.ObjectClass, props []property[S]) {
	specs := make([]*glib.ParamSpec, len(props))
	for i, p := range props {
		n, k, b := C.CString(p.name), C.CString(p.nick), C.CString(p.blurb)
		specs[i] = glib.ToParamSpec(unsafe.Pointer(p.value.paramSpec(n, k, b, p.flags)))
		freeC(n)
		freeC(k)
		freeC(b)
	}
	klass.InstallProperties(specs)
}

// setProperty stores v through the table; lock is the owner's mutex.
func setProperty[S any](props []property[S], s S, lock func() func(), id uint, v *glib.Value) {
	if id >= uint(len(props)) || props[id].set == nil {
		return
	}
	p := &props[id]
	if !p.unlocked {
		defer lock()()
	}
	p.set(s, (*C.GValue)(v.Native()))
}

// getProperty reads a value through the table; lock is the owner's mutex.
func getProperty[S any](props []property[S], s S, lock func() func(), id uint) *glib.Value {
	if id >= uint(len(props)) || props[id].get == nil {
		return nil
	}
	p := &props[id]
	if !p.unlocked {
		defer lock()()
	}
	return p.get(s)
}

// Properties stored in a field of their owner, one constructor per value type.

func boolProp[S any](name, nick, blurb string, def bool, flags C.GParamFlags, field func(S) *bool, doc propDoc) property[S] {
	return property[S]{name: name, nick: nick, blurb: blurb, flags: flags, value: boolType{def}, doc: doc,
		set: func(s S, v *C.GValue) { *field(s) = C.g_value_get_boolean(v) != 0 },
		get: func(s S) *glib.Value { return boolValue(*field(s)) }}
}

func uintProp[S any](name, nick, blurb string, min, max, def uint, flags C.GParamFlags, field func(S) *uint, doc propDoc) property[S] {
	return property[S]{name: name, nick: nick, blurb: blurb, flags: flags, value: uintType{min, max, def}, doc: doc,
		set: func(s S, v *C.GValue) { *field(s) = uint(C.g_value_get_uint(v)) },
		get: func(s S) *glib.Value { return uintValue(*field(s)) }}
}

func intProp[S any](name, nick, blurb string, min, max, def int, flags C.GParamFlags, field func(S) *int, doc propDoc) property[S] {
	return property[S]{name: name, nick: nick, blurb: blurb, flags: flags, value: intType{min, max, def}, doc: doc,
		set: func(s S, v *C.GValue) { *field(s) = int(C.g_value_get_int(v)) },
		get: func(s S) *glib.Value {
			v, _ := glib.ValueInit(glib.TYPE_INT)
			v.SetInt(*field(s))
			return v
		}}
}

// stringProp: a NULL value is stored as nil and reads back as NULL.
func stringProp[S any](name, nick, blurb string, def *string, flags C.GParamFlags, field func(S) **string, doc propDoc) property[S] {
	return property[S]{name: name, nick: nick, blurb: blurb, flags: flags, value: stringType{def}, doc: doc,
		set: func(s S, v *C.GValue) { *field(s) = gvalueString(v) },
		get: func(s S) *glib.Value { return stringValue(*field(s)) }}
}

// maskedStringProp is a stringProp that reads back through show (secrets
// masked, credentials redacted; docs/properties.md, "Secrets read back masked").
func maskedStringProp[S any](name, nick, blurb string, def *string, flags C.GParamFlags, field func(S) **string, show func(string) string, doc propDoc) property[S] {
	p := stringProp(name, nick, blurb, def, flags, field, doc)
	p.get = func(s S) *glib.Value {
		if v := *field(s); v != nil {
			return stringValue(strp(show(*v)))
		}
		return nil
	}
	return p
}

// stringArrayProp is a GstValueArray of strings; entries read back through
// show when it is not nil.
func stringArrayProp[S any](name, nick, blurb, elem string, flags C.GParamFlags, field func(S) *[]string, show func(string) string, doc propDoc) property[S] {
	return property[S]{name: name, nick: nick, blurb: blurb, flags: flags, value: stringArrayType{elem}, doc: doc,
		set: func(s S, v *C.GValue) {
			var list []string
			for i := C.guint(0); i < C.lk_value_array_size(v); i++ {
				if c := C.lk_value_array_string(v, i); c != nil {
					list = append(list, C.GoString(c))
				}
			}
			*field(s) = list
		},
		get: func(s S) *glib.Value {
			v, _ := glib.ValueInit(glib.Type(C.lk_value_array_type()))
			for _, e := range *field(s) {
				if show != nil {
					e = show(e)
				}
				withCString(e, func(c *C.char) { C.lk_value_array_append_string(nativeValue(v), c) })
			}
			return v
		}}
}

func enumProp[S any](name, nick, blurb string, value enumType, flags C.GParamFlags, field func(S) *int, doc propDoc) property[S] {
	return property[S]{name: name, nick: nick, blurb: blurb, flags: flags, value: value, doc: doc,
		set: func(s S, v *C.GValue) { *field(s) = value.fromValue(v) },
		get: func(s S) *glib.Value { return value.value(*field(s)) }}
}

// capsProp stores caps as their string; NULL or empty caps reset it to def,
// like an unset property.
func capsProp[S any](name, nick, blurb, def string, flags C.GParamFlags, field func(S) *string, doc propDoc) property[S] {
	return property[S]{name: name, nick: nick, blurb: blurb, flags: flags, value: capsType{def}, doc: doc,
		set: func(s S, v *C.GValue) {
			if c := takeCString(C.lk_value_dup_caps_string(v)); c != nil && *c != "" {
				*field(s) = *c
			} else {
				*field(s) = def
			}
		},
		get: func(s S) *glib.Value {
			v, _ := glib.ValueInit(glib.Type(C.lk_caps_type()))
			withCString(*field(s), func(c *C.char) { C.lk_value_take_caps_string(nativeValue(v), c) })
			return v
		}}
}

// structureProp stores a GstStructure as its string; NULL is nil.
func structureProp[S any](name, nick, blurb string, flags C.GParamFlags, field func(S) **string, doc propDoc) property[S] {
	return property[S]{name: name, nick: nick, blurb: blurb, flags: flags, value: structureType{}, doc: doc,
		set: func(s S, v *C.GValue) { *field(s) = takeCString(C.lk_value_dup_structure_string(v)) },
		get: func(s S) *glib.Value { return structureValue(*field(s)) }}
}

// GValue helpers.

func nativeValue(v *glib.Value) *C.GValue { return (*C.GValue)(v.Native()) }

func strp(s string) *string { return &s }

func takeCString(c *C.char) *string {
	if c == nil {
		return nil
	}
	s := C.GoString(c)
	C.g_free(C.gpointer(c))
	return &s
}

func gvalueString(gv *C.GValue) *string {
	c := C.g_value_get_string(gv)
	if c == nil {
		return nil
	}
	s := C.GoString(c)
	return &s
}

func stringValue(s *string) *glib.Value {
	if s == nil {
		return nil // the GValue GObject passes in already holds NULL
	}
	v, _ := glib.GValue(*s)
	return v
}

func boolValue(b bool) *glib.Value {
	v, _ := glib.GValue(b)
	return v
}

func uintValue(u uint) *glib.Value {
	v, _ := glib.ValueInit(glib.TYPE_UINT)
	v.SetUInt(u)
	return v
}

func structureValue(s *string) *glib.Value {
	if s == nil {
		return nil
	}
	v, _ := glib.ValueInit(glib.Type(C.lk_structure_type()))
	withCString(*s, func(c *C.char) { C.lk_value_set_structure_string(nativeValue(v), c) })
	return v
}
