// Package samcheck checks the SAM template (template.yaml at the repository root) against the code it
// deploys: no SAM validator runs offline (shared/reference/aws-local-testing.md), so the project's own
// rules are asserted by Go tests that parse the template with goformation — every function builds for
// linux/arm64, every API route has its function, the state machine's substitutions match its
// definition, the table matches the DynamoDB store, and IAM policies name only the stack's resources.
//
// goformation resolves !GetAtt to nothing and !Ref to parameter defaults; Load replaces those handlers
// with ones that record every reference and leave a readable marker instead (REF:Name, GETATT:Name.Attr),
// so the checks can see what the template points at.
package samcheck

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/awslabs/goformation/v7"
	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/intrinsics"
)

// Template is a parsed template.yaml.
type Template struct {
	Dir   string                   // the repository root (where template.yaml is)
	CF    *cloudformation.Template // typed view (intrinsics replaced by markers)
	Raw   map[string]any           // the same JSON, untyped: Globals and policy statements
	Refs  map[string]bool          // names used by Ref and by ${Name} in Sub
	Attrs map[string]bool          // "Resource.Attribute" used by GetAtt and by ${Resource.Attribute} in Sub
}

// Markers left by Load in place of intrinsic functions.
const (
	RefPrefix    = "REF:"
	GetAttPrefix = "GETATT:"
)

var subVar = regexp.MustCompile(`\$\{([^}!][^}]*)\}`)

// Load parses dir/template.yaml.
func Load(dir string) (*Template, error) {
	data, err := os.ReadFile(filepath.Join(dir, "template.yaml"))
	if err != nil {
		return nil, err
	}
	t := &Template{Dir: dir, Refs: map[string]bool{}, Attrs: map[string]bool{}}
	var mu sync.Mutex
	record := func(into map[string]bool, name string) {
		mu.Lock()
		into[name] = true
		mu.Unlock()
	}
	opts := &intrinsics.ProcessorOptions{IntrinsicHandlerOverrides: map[string]intrinsics.IntrinsicHandler{
		"Ref": func(_ string, in any, _ any) any {
			name, _ := in.(string)
			record(t.Refs, name)
			return RefPrefix + name
		},
		"Fn::GetAtt": func(_ string, in any, _ any) any {
			var name string
			switch v := in.(type) {
			case string:
				name = v
			case []any:
				parts := make([]string, 0, len(v))
				for _, p := range v {
					parts = append(parts, fmt.Sprint(p))
				}
				name = strings.Join(parts, ".")
			}
			record(t.Attrs, name)
			return GetAttPrefix + name
		},
		// Sub keeps its text (checks compare ARN patterns) and records the names it interpolates.
		"Fn::Sub": func(_ string, in any, _ any) any {
			var text string
			switch v := in.(type) {
			case string:
				text = v
			case []any:
				if len(v) > 0 {
					text, _ = v[0].(string)
				}
			}
			for _, m := range subVar.FindAllStringSubmatch(text, -1) {
				if name, attr, ok := strings.Cut(m[1], "."); ok {
					record(t.Attrs, name+"."+attr)
				} else {
					record(t.Refs, m[1])
				}
			}
			return text
		},
	}}
	processed, err := intrinsics.ProcessYAML(data, opts)
	if err != nil {
		return nil, fmt.Errorf("process template.yaml: %w", err)
	}
	if err := json.Unmarshal(processed, &t.Raw); err != nil {
		return nil, fmt.Errorf("decode template.yaml: %w", err)
	}
	if t.CF, err = goformation.ParseYAMLWithOptions(data, opts); err != nil {
		return nil, fmt.Errorf("goformation: %w", err)
	}
	return t, nil
}

// GlobalFunction returns Globals.Function (goformation does not merge Globals into functions).
func (t *Template) GlobalFunction() map[string]any {
	g, _ := t.Raw["Globals"].(map[string]any)
	f, _ := g["Function"].(map[string]any)
	return f
}

// RawProperties returns a resource's Properties as plain JSON values.
func (t *Template) RawProperties(logicalID string) map[string]any {
	rs, _ := t.Raw["Resources"].(map[string]any)
	r, _ := rs[logicalID].(map[string]any)
	p, _ := r["Properties"].(map[string]any)
	return p
}

// ResourceType returns a resource's Type, "" when there is no such resource.
func (t *Template) ResourceType(logicalID string) string {
	rs, _ := t.Raw["Resources"].(map[string]any)
	r, _ := rs[logicalID].(map[string]any)
	s, _ := r["Type"].(string)
	return s
}

// FunctionNames returns the logical ids of the template's functions, sorted.
func (t *Template) FunctionNames() []string {
	var out []string
	for name := range t.CF.GetAllServerlessFunctionResources() {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// PseudoParameters are the names Ref and Sub may use without declaring them.
var PseudoParameters = map[string]bool{
	"AWS::AccountId": true, "AWS::NotificationARNs": true, "AWS::NoValue": true, "AWS::Partition": true,
	"AWS::Region": true, "AWS::StackId": true, "AWS::StackName": true, "AWS::URLSuffix": true,
}

// Defined reports whether name is a parameter, a resource or a pseudo parameter of the template.
// SAM also defines a few names of its own for generated resources (ServerlessHttpApi, …); this template
// declares its API explicitly, so none are accepted.
func (t *Template) Defined(name string) bool {
	if PseudoParameters[name] {
		return true
	}
	if _, ok := t.CF.Parameters[name]; ok {
		return true
	}
	return t.ResourceType(name) != ""
}
