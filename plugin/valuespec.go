package plugin

/*
#include "lk.h"
*/
import "C"

import (
	"fmt"
	"strings"
	"unsafe"

	"github.com/go-gst/go-glib/glib"
)

// valueSpec is a property's value type: it makes the GParamSpec and names
// the type and its default in docs/properties.md. Enum, flags and boxed
// GTypes are made in C (reftypes.c, gobject.c); a spec refers to them.
type valueSpec interface {
	paramSpec(name, nick, blurb *C.char, flags C.GParamFlags) *C.GParamSpec
	// typeDoc is the type's name and, when narrower than the type's, its range.
	typeDoc() (name, valueRange string)
	defaultDoc() string
	// valueDoc shows v (a property's value, nil for NULL) as defaultDoc shows the default.
	valueDoc(v *glib.Value) string
}

type boolType struct{ def bool }

func (t boolType) paramSpec(n, k, b *C.char, flags C.GParamFlags) *C.GParamSpec {
	d := C.gboolean(0)
	if t.def {
		d = 1
	}
	return C.lk_param_spec_bool(n, k, b, d, flags)
}
func (boolType) typeDoc() (string, string) { return "gboolean", "" }
func (t boolType) defaultDoc() string      { return strings.ToUpper(fmt.Sprint(t.def)) }
func (boolType) valueDoc(v *glib.Value) string {
	b, _ := v.GoValue()
	return strings.ToUpper(fmt.Sprint(b))
}

type stringType struct{ def *string }

func (t stringType) paramSpec(n, k, b *C.char, flags C.GParamFlags) *C.GParamSpec {
	var d *C.char
	if t.def != nil {
		d = C.CString(*t.def)
		defer freeC(d)
	}
	return C.lk_param_spec_string(n, k, b, d, flags)
}
func (stringType) typeDoc() (string, string) { return "gchararray", "" }
func (t stringType) defaultDoc() string {
	switch {
	case t.def == nil:
		return "NULL"
	case *t.def == "":
		return "`\"\"`"
	}
	return "`" + *t.def + "`"
}
func (stringType) valueDoc(v *glib.Value) string {
	if v == nil {
		return stringType{}.defaultDoc()
	}
	str, _ := v.GetString()
	return stringType{&str}.defaultDoc()
}

type uintType struct{ min, max, def uint }

func (t uintType) paramSpec(n, k, b *C.char, flags C.GParamFlags) *C.GParamSpec {
	return C.lk_param_spec_uint(n, k, b, C.guint(t.min), C.guint(t.max), C.guint(t.def), flags)
}
func (t uintType) typeDoc() (string, string) {
	if t.min == 0 && t.max == maxUint32 {
		return "guint", ""
	}
	return "guint", fmt.Sprintf("%d..%s", t.min, limitDoc(int64(t.max)))
}
func (t uintType) defaultDoc() string          { return fmt.Sprint(t.def) }
func (uintType) valueDoc(v *glib.Value) string { return goValueDoc(v) }

type intType struct{ min, max, def int }

func (t intType) paramSpec(n, k, b *C.char, flags C.GParamFlags) *C.GParamSpec {
	return C.lk_param_spec_int(n, k, b, C.gint(t.min), C.gint(t.max), C.gint(t.def), flags)
}
func (t intType) typeDoc() (string, string) {
	if t.min == -maxInt32-1 && t.max == maxInt32 {
		return "gint", ""
	}
	return "gint", fmt.Sprintf("%d..%s", t.min, limitDoc(int64(t.max)))
}
func (t intType) defaultDoc() string          { return fmt.Sprint(t.def) }
func (intType) valueDoc(v *glib.Value) string { return goValueDoc(v) }

func goValueDoc(v *glib.Value) string {
	n, _ := v.GoValue()
	return fmt.Sprint(n)
}

func limitDoc(max int64) string {
	switch max {
	case maxUint32:
		return "G_MAXUINT"
	case maxInt32:
		return "G_MAXINT"
	}
	return fmt.Sprint(max)
}

// enumType is an enum or, with isFlags, a flags type; a value is its int.
type enumType struct {
	gtype   func() C.GType
	def     int
	isFlags bool
}

func (t enumType) paramSpec(n, k, b *C.char, flags C.GParamFlags) *C.GParamSpec {
	if t.isFlags {
		return C.lk_param_spec_flags(n, k, b, t.gtype(), C.guint(t.def), flags)
	}
	return C.lk_param_spec_enum(n, k, b, t.gtype(), C.gint(t.def), flags)
}

func (t enumType) fromValue(v *C.GValue) int {
	if t.isFlags {
		return int(C.g_value_get_flags(v))
	}
	return int(C.g_value_get_enum(v))
}

func (t enumType) value(n int) *glib.Value {
	v, _ := glib.ValueInit(glib.Type(t.gtype()))
	if t.isFlags {
		C.lk_value_set_flags(nativeValue(v), C.guint(n))
	} else {
		v.SetEnum(n)
	}
	return v
}

func (t enumType) typeDoc() (string, string) {
	var nicks []string
	for _, v := range t.values() {
		nicks = append(nicks, "`"+v.nick+"`")
	}
	if t.isFlags {
		return "flags " + strings.Join(nicks, "/"), ""
	}
	return "enum " + strings.Join(nicks, "/"), ""
}

// defaultDoc: the default's nick; for flags, the nicks of its bits joined by +.
func (t enumType) defaultDoc() string {
	var nicks []string
	for _, v := range t.values() {
		if v.value == t.def || t.isFlags && v.value != 0 && t.def&v.value == v.value {
			nicks = append(nicks, v.nick)
		}
	}
	return "`" + strings.Join(nicks, "+") + "`"
}

func (t enumType) valueDoc(v *glib.Value) string {
	t.def = t.fromValue(nativeValue(v))
	return t.defaultDoc()
}

type nickValue struct {
	nick  string
	value int
}

func (t enumType) values() []nickValue {
	class := C.g_type_class_ref(t.gtype())
	defer C.g_type_class_unref(class)
	var out []nickValue
	if t.isFlags {
		c := (*C.GFlagsClass)(class)
		for _, v := range unsafe.Slice(c.values, c.n_values) {
			out = append(out, nickValue{C.GoString(v.value_nick), int(v.value)})
		}
		return out
	}
	c := (*C.GEnumClass)(class)
	for _, v := range unsafe.Slice(c.values, c.n_values) {
		out = append(out, nickValue{C.GoString(v.value_nick), int(v.value)})
	}
	return out
}

type capsType struct{ def string }

func (capsType) paramSpec(n, k, b *C.char, flags C.GParamFlags) *C.GParamSpec {
	return C.lk_param_spec_boxed(n, k, b, C.lk_caps_type(), flags)
}
func (capsType) typeDoc() (string, string) { return "GstCaps", "" }
func (t capsType) defaultDoc() string      { return "`" + t.def + "`" }
func (capsType) valueDoc(v *glib.Value) string {
	return "`" + deref(takeCString(C.lk_value_dup_caps_string(nativeValue(v)))) + "`"
}

type structureType struct{}

func (structureType) paramSpec(n, k, b *C.char, flags C.GParamFlags) *C.GParamSpec {
	return C.lk_param_spec_boxed(n, k, b, C.lk_structure_type(), flags)
}
func (structureType) typeDoc() (string, string) { return "GstStructure", "" }
func (structureType) defaultDoc() string        { return "NULL" }
func (structureType) valueDoc(v *glib.Value) string {
	if v == nil {
		return "NULL"
	}
	return "`" + deref(takeCString(C.lk_value_dup_structure_string(nativeValue(v)))) + "`"
}

type stringArrayType struct{ elem string }

func (t stringArrayType) paramSpec(n, k, b *C.char, flags C.GParamFlags) *C.GParamSpec {
	e := C.CString(t.elem)
	defer freeC(e)
	return C.lk_param_spec_string_array(n, k, b, e, flags)
}
func (stringArrayType) typeDoc() (string, string) { return "GstValueArray of gchararray", "" }
func (stringArrayType) defaultDoc() string        { return "`<>`" }
func (stringArrayType) valueDoc(v *glib.Value) string {
	var list []string
	for i := C.guint(0); i < C.lk_value_array_size(nativeValue(v)); i++ {
		list = append(list, C.GoString(C.lk_value_array_string(nativeValue(v), i)))
	}
	return "`<" + strings.Join(list, ", ") + ">`"
}

type objectType struct{ gtype func() C.GType }

func (t objectType) paramSpec(n, k, b *C.char, flags C.GParamFlags) *C.GParamSpec {
	return C.lk_param_spec_object(n, k, b, t.gtype(), flags)
}
func (t objectType) typeDoc() (string, string) { return C.GoString(C.g_type_name(t.gtype())), "" }
func (objectType) defaultDoc() string          { return "NULL" }
func (objectType) valueDoc(v *glib.Value) string {
	if v == nil {
		return "NULL"
	}
	return "`" + v.TypeName() + "`"
}

// propertiesDoc is a table as docs/properties.md shows it: one row a property.
func propertiesDoc[S any](props []property[S]) string {
	var b strings.Builder
	b.WriteString("| Property | Type | Default | In golivekitsink |\n|---|---|---|---|\n")
	for _, p := range props {
		typ, valueRange := p.value.typeDoc()
		var notes []string
		if valueRange != "" || p.doc.unit != "" {
			notes = append(notes, strings.TrimSpace(valueRange+" "+p.doc.unit))
		}
		if p.flags&C.G_PARAM_WRITABLE == 0 {
			notes = append(notes, "read-only")
		}
		if len(notes) > 0 {
			typ += " (" + strings.Join(notes, ", ") + ")"
		}
		def := p.doc.def
		if def == "" {
			def = p.value.defaultDoc()
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", p.name, typ, def, p.doc.use)
	}
	return b.String()
}
