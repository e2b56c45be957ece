package trigger

// Lookup is one way to find, in an informer's cache, objects of a target
// that may match a trigger: the object a trigger names, or the objects
// carrying a label value its selector requires (from the cache's label
// index).
type Lookup struct {
	// Name, when not empty, is the name of the one object to get.
	Name string
	// Label and Value, when Name is empty, select the objects whose label
	// Label has the value Value.
	Label, Value string
}

// Lookups says how to find the cached objects of target that may match
// filters: for each filter of the target, the object it names, or the
// objects carrying a label its selector requires. all is true when a filter
// neither names an object nor requires a label, so that every object of the
// target must be listed (and lookups is nil). The lookups may find an object
// more than once.
func Lookups(filters []Filter, target Target) (lookups []Lookup, all bool) {
	for i := range filters {
		f := &filters[i]
		if f.Target != target {
			continue
		}
		if f.Name != "" {
			lookups = append(lookups, Lookup{Name: f.Name})
			continue
		}
		label, values, ok := f.RequiredLabel()
		if !ok {
			return nil, true
		}
		for _, v := range values {
			lookups = append(lookups, Lookup{Label: label, Value: v})
		}
	}
	return lookups, false
}

// DeletedFallback describes an object deleted while the operator was down,
// whose last state nobody saw (Input.DeletedFallback): its kind, namespace
// and name when every onDelete trigger agrees on them, and OnDelete when any
// trigger has it.
func DeletedFallback(filters []Filter) Object {
	var obj Object
	first := true
	for _, f := range filters {
		if !f.OnDelete {
			continue
		}
		if first {
			obj = Object{APIVersion: f.APIVersion(), Kind: f.Kind, Namespace: f.Namespace, Name: f.Name, OnDelete: true}
			first = false
			continue
		}
		if obj.APIVersion != f.APIVersion() || obj.Kind != f.Kind {
			obj.APIVersion, obj.Kind = "", ""
		}
		if obj.Namespace != f.Namespace {
			obj.Namespace = ""
		}
		if obj.Name != f.Name {
			obj.Name = ""
		}
	}
	return obj
}
