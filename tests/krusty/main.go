// Builds many kustomizations in one process with kustomize's own engine (sigs.k8s.io/kustomize
// api/krusty, pinned in go.mod at the version kustomize v5.5.0 ships), so the overlay tests can
// compare railyard with kustomize on thousands of cases without starting `kubectl kustomize`
// (about 0.1 s) for each.
//
// Usage: krusty < paths    (one kustomization directory a line; stdin ends the run)
//
// For each path it writes one frame to stdout:
//
//	ok <n>\n<n bytes: what `kubectl kustomize <path>` prints on stdout>
//	error <n>\n<n bytes: the error kubectl reports>
//
// The options are those `kustomize build` (kustomize/commands/build at kustomize/v5.5.0, which
// `kubectl kustomize` embeds) uses when given no flag: krusty.MakeDefaultOptions() with the
// reorder left unspecified (so `sortOptions` decides, else the legacy order), files restricted
// to the kustomization's root, plugins and Helm disabled, the managed-by label only when
// KUSTOMIZE_ENABLE_MANAGEDBY_LABEL=on; the output is resmap.AsYaml().
package main

import (
	"bufio"
	"fmt"
	"os"

	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

func main() {
	fSys := filesys.MakeFsOnDisk()
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 64*1024), 1024*1024)
	out := bufio.NewWriter(os.Stdout)
	for in.Scan() {
		path := in.Text()
		if path == "" {
			continue
		}
		yml, err := build(fSys, path)
		if err != nil {
			frame(out, "error", []byte(err.Error()))
		} else {
			frame(out, "ok", yml)
		}
		// The reader waits for each frame before it sends the next path.
		if err := out.Flush(); err != nil {
			os.Exit(1)
		}
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "krusty: reading stdin:", err)
		os.Exit(1)
	}
}

func frame(out *bufio.Writer, kind string, body []byte) {
	fmt.Fprintf(out, "%s %d\n", kind, len(body))
	out.Write(body)
}

// build runs one kustomization as `kustomize build` does; a panic inside kustomize is reported
// as that case's error, so one bad input does not end the run.
func build(fSys filesys.FileSystem, path string) (yml []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	options := krusty.MakeDefaultOptions()
	options.Reorder = krusty.ReorderOptionUnspecified
	options.LoadRestrictions = types.LoadRestrictionsRootOnly
	options.PluginConfig.HelmConfig.Enabled = false
	options.PluginConfig.HelmConfig.Command = "helm"
	options.PluginConfig.HelmConfig.ApiVersions = []string{}
	options.AddManagedbyLabel = managedByLabel()
	m, err := krusty.MakeKustomizer(options).Run(fSys, path)
	if err != nil {
		return nil, err
	}
	return m.AsYaml()
}

// managedByLabel mirrors kustomize build's isManagedByLabelEnabled without its flag.
func managedByLabel() bool {
	value, set := os.LookupEnv(konfig.EnableManagedbyLabelEnv)
	return set && value == "on"
}
