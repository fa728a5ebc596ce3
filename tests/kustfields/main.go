// Prints the field names of kustomize's Kustomization type, one a line, as its JSON tags spell
// them (inline structs such as TypeMeta expanded): the list tests/overlay.rs checks railyard's
// overlay engine against, so every field kustomize knows is either supported or refused.
package main

import (
	"fmt"
	"reflect"
	"strings"

	"sigs.k8s.io/kustomize/api/types"
)

func main() {
	fields(reflect.TypeOf(types.Kustomization{}))
}

func fields(t reflect.Type) {
	for i := 0; i < t.NumField(); i++ {
		field := t.Field(i)
		tag := field.Tag.Get("json")
		name := strings.Split(tag, ",")[0]
		switch {
		case name == "" && strings.Contains(tag, "inline"):
			fields(field.Type)
		case name != "" && name != "-":
			fmt.Println(name)
		}
	}
}
