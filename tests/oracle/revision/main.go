// Command oracle prints what OpenKruise v1.9.0 would do with CloneSets, using its own code.
//
//	go run . revisions FILE.yaml...   one JSON line per CloneSet: name, revision name, payload
//	go run . types                    Go JSON facts of corev1.PodTemplateSpec (see ../README.md)
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"

	"github.com/openkruise/kruise/apis/apps/defaults"
	appsv1alpha1 "github.com/openkruise/kruise/apis/apps/v1alpha1"
	appsv1beta1 "github.com/openkruise/kruise/apis/apps/v1beta1"
	"github.com/openkruise/kruise/pkg/controller/cloneset/revision"
	"github.com/openkruise/kruise/pkg/util/volumeclaimtemplate"
	corev1 "k8s.io/api/core/v1"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"
)

func main() {
	if len(os.Args) < 2 {
		fail("usage: oracle revisions FILE... | oracle types")
	}
	switch os.Args[1] {
	case "revisions":
		revisions(os.Args[2:])
	case "types":
		types()
	default:
		fail("unknown command " + os.Args[1])
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, msg)
	os.Exit(1)
}

// kruise-manager registers its kinds into client-go's scheme at start-up (main.go); the
// revision package encodes with that scheme.
func init() {
	if err := appsv1beta1.AddToScheme(clientgoscheme.Scheme); err != nil {
		fail(err.Error())
	}
	if err := appsv1alpha1.AddToScheme(clientgoscheme.Scheme); err != nil {
		panic(err)
	}
}

type result struct {
	Name     string `json:"name"`
	Revision string `json:"revision"`
	VCTHash  string `json:"vctHash"`
	Payload  string `json:"payload"`
}

func revisions(files []string) {
	decoder := clientgoscheme.Codecs.UniversalDeserializer()
	var out []result
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			fail(err.Error())
		}
		for _, doc := range strings.Split(string(raw), "\n---\n") {
			if strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(doc), "---")) == "" {
				continue
			}
			js, err := yaml.YAMLToJSON([]byte(doc))
			if err != nil {
				fail(f + ": " + err.Error())
			}
			// 1. The API server hands the mutating webhook the object; it decodes it typed,
			//    applies the defaults and patches the stored object to its typed encoding.
			obj, _, err := decoder.Decode(js, nil, &appsv1alpha1.CloneSet{})
			if err != nil {
				fail(f + ": " + err.Error())
			}
			cs := obj.(*appsv1alpha1.CloneSet)
			defaults.SetDefaultsCloneSet(cs, true)
			stored, err := json.Marshal(cs)
			if err != nil {
				fail(err.Error())
			}
			// 2. The controller reads the stored object back (typed) and builds the revision
			//    with collisionCount 0, as the first reconcile does.
			obj, _, err = decoder.Decode(stored, nil, &appsv1alpha1.CloneSet{})
			if err != nil {
				fail(err.Error())
			}
			cs = obj.(*appsv1alpha1.CloneSet)
			// The module proxy's v1.9.0 builds revisions from the v1beta1 hub type; the
			// object is converted as the API server's conversion would (the payload is the
			// pod template, the same in both versions).
			beta := &appsv1beta1.CloneSet{}
			if err := cs.ConvertTo(beta); err != nil {
				fail(err.Error())
			}
			collision := int32(0)
			cr, err := revision.NewRevisionControl().NewRevision(beta, 1, &collision)
			if err != nil {
				fail(err.Error())
			}
			out = append(out, result{
				Name:     cs.Name,
				Revision: cr.Name,
				VCTHash:  cr.Annotations[volumeclaimtemplate.HashAnnotation],
				Payload:  string(cr.Data.Raw),
			})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	var buf bytes.Buffer
	buf.WriteString("[\n")
	for i, r := range out {
		line, _ := json.Marshal(r)
		buf.Write(line)
		if i+1 < len(out) {
			buf.WriteString(",")
		}
		buf.WriteString("\n")
	}
	buf.WriteString("]\n")
	os.Stdout.Write(buf.Bytes())
}

// ---- types ----

// A Go type as encoding/json sees it. Named structs are listed once in the table and referred
// to by id; everything else is spelled inline.
type field struct {
	JSON      string `json:"json"`
	OmitEmpty bool   `json:"omitempty,omitempty"`
	Type      string `json:"type"`
}

var (
	quantityT   = "k8s.io/apimachinery/pkg/api/resource.Quantity"
	intOrStrT   = "k8s.io/apimachinery/pkg/util/intstr.IntOrString"
	timeT       = "k8s.io/apimachinery/pkg/apis/meta/v1.Time"
	fieldsV1T   = "k8s.io/apimachinery/pkg/apis/meta/v1.FieldsV1"
	marshalerT  = reflect.TypeOf((*json.Marshaler)(nil)).Elem()
	structTable = map[string][]field{}
)

// typeID spells t: "string", "bool", "int", "float", "quantity", "intorstring", "time", "raw",
// "*T", "[]T", "map[T]" (string keys), or "struct:<pkg.Name>" (listed in the table).
func typeID(t reflect.Type) string {
	full := t.PkgPath() + "." + t.Name()
	switch full {
	case quantityT:
		return "quantity"
	case intOrStrT:
		return "intorstring"
	case timeT:
		return "time"
	case fieldsV1T:
		return "raw" // kept as written
	}
	if t.Kind() != reflect.Pointer && (t.Implements(marshalerT) || reflect.PointerTo(t).Implements(marshalerT)) {
		fail("unhandled json.Marshaler " + full)
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "bool"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "int"
	case reflect.Float32, reflect.Float64:
		return "float"
	case reflect.Pointer:
		return "*" + typeID(t.Elem())
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			fail("unhandled []byte")
		}
		return "[]" + typeID(t.Elem())
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			fail("unhandled map key " + t.String())
		}
		return "map[" + typeID(t.Elem()) + "]"
	case reflect.Struct:
		id := "struct:" + full
		if _, seen := structTable[id]; !seen {
			structTable[id] = nil // break cycles
			structTable[id] = structFields(t)
		}
		return id
	}
	fail("unhandled kind " + t.String())
	return ""
}

// structFields flattens embedded structs the way encoding/json does (k8s only embeds with
// `json:",inline"` and never has name clashes, which is checked).
func structFields(t reflect.Type) []field {
	var fs []field
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() && !f.Anonymous {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			fs = append(fs, structFields(f.Type)...)
			continue
		}
		if name == "" {
			name = f.Name
		}
		fs = append(fs, field{JSON: name, OmitEmpty: strings.Contains(","+opts+",", ",omitempty,"), Type: typeID(f.Type)})
		if strings.Contains(opts, "omitzero") || strings.Contains(opts, "string") {
			fail("unhandled json option " + opts)
		}
	}
	seen := map[string]bool{}
	for _, f := range fs {
		if seen[f.JSON] {
			fail("duplicate json name " + f.JSON + " in " + t.String())
		}
		seen[f.JSON] = true
	}
	return fs
}

func types() {
	root := typeID(reflect.TypeOf(corev1.PodTemplateSpec{}))
	ids := make([]string, 0, len(structTable))
	for id := range structTable {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "{\"root\":%q,\"structs\":{\n", root)
	for i, id := range ids {
		fs, _ := json.Marshal(structTable[id])
		fmt.Fprintf(&buf, "%q:%s", id, fs)
		if i+1 < len(ids) {
			buf.WriteString(",")
		}
		buf.WriteString("\n")
	}
	buf.WriteString("}}\n")
	os.Stdout.Write(buf.Bytes())
}
