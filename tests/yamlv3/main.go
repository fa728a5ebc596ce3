// Command yamlv3 reports how gopkg.in/yaml.v3 reads and writes scalars, for railyard's
// differential test (tests/yaml_v3.rs).
//
// It reads a JSON list of strings on stdin and writes a JSON list on stdout with, for each
// string s, in order:
//   - how yaml.v3 resolves s as a plain scalar decoded into interface{}: the Go type of the
//     result ("null", "bool", "int", "uint", "float", "timestamp" or "str") and its value as
//     text (floats as strconv.FormatFloat(f, 'g', -1, 64), times as RFC 3339 with nanoseconds);
//   - the document yaml.v3 writes for map[string]string{"k": s}, with an indent of 2 as
//     kustomize sets it.
//
// With -read, each input string is instead a YAML document, and the result is how yaml.v3
// decodes the value of its key `k` into interface{} (kind and value, or an error): the test
// reads railyard's own output back with it.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"

	"gopkg.in/yaml.v3"
)

type result struct {
	Kind    string `json:"kind"`
	Value   string `json:"value"`
	Emitted string `json:"emitted"`
	Error   string `json:"error,omitempty"`
}

func main() {
	read := flag.Bool("read", false, "decode each input as a YAML document with a key `k`")
	flag.Parse()
	var inputs []string
	if err := json.NewDecoder(os.Stdin).Decode(&inputs); err != nil {
		fmt.Fprintln(os.Stderr, "reading the input:", err)
		os.Exit(2)
	}
	results := make([]result, 0, len(inputs))
	for _, s := range inputs {
		if *read {
			results = append(results, readBack(s))
		} else {
			results = append(results, check(s))
		}
	}
	out := json.NewEncoder(os.Stdout)
	out.SetEscapeHTML(false)
	if err := out.Encode(results); err != nil {
		fmt.Fprintln(os.Stderr, "writing the output:", err)
		os.Exit(2)
	}
}

func check(s string) result {
	var r result
	node := yaml.Node{Kind: yaml.ScalarNode, Value: s}
	var decoded interface{}
	if err := node.Decode(&decoded); err != nil {
		r.Error = "decode: " + err.Error()
	}
	r.Kind, r.Value = describe(decoded)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(map[string]string{"k": s}); err != nil {
		r.Error += "encode: " + err.Error()
	}
	if err := enc.Close(); err != nil {
		r.Error += "close: " + err.Error()
	}
	r.Emitted = buf.String()
	return r
}

func readBack(document string) result {
	var r result
	var decoded map[string]interface{}
	if err := yaml.Unmarshal([]byte(document), &decoded); err != nil {
		r.Error = err.Error()
		return r
	}
	value, ok := decoded["k"]
	if !ok || len(decoded) != 1 {
		r.Error = "no single key `k`"
		return r
	}
	r.Kind, r.Value = describe(value)
	return r
}

func describe(v interface{}) (string, string) {
	switch v := v.(type) {
	case nil:
		return "null", ""
	case bool:
		return "bool", strconv.FormatBool(v)
	case int:
		return "int", strconv.FormatInt(int64(v), 10)
	case int64:
		return "int", strconv.FormatInt(v, 10)
	case uint64:
		return "uint", strconv.FormatUint(v, 10)
	case float64:
		return "float", strconv.FormatFloat(v, 'g', -1, 64)
	case time.Time:
		return "timestamp", v.Format(time.RFC3339Nano)
	case string:
		return "str", v
	default:
		return fmt.Sprintf("%T", v), fmt.Sprint(v)
	}
}
