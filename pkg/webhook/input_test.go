package webhook

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestParseInputRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		params map[string]any
		want   string
	}{
		{"no url", map[string]any{}, "input url is required"},
		{"url not a string", map[string]any{"url": 5.0}, "input url is required"},
		{"relative url", map[string]any{"url": "/hook"}, "input url must use http or https"},
		{"ftp", map[string]any{"url": "ftp://example.com/x"}, "input url must use http or https"},
		{"file", map[string]any{"url": "file:///etc/passwd"}, "input url must use http or https"},
		{"no host", map[string]any{"url": "http:///x"}, "input url has no host"},
		{"bad url", map[string]any{"url": "http://[::1"}, "input url is not a valid URL"},
		{"url too long", map[string]any{"url": "https://example.com/" + strings.Repeat("a", MaxURLLen)}, "input url is longer than 2048 characters"},
		{"lower-case method", map[string]any{"url": "https://example.com", "method": "post"}, "input method must be one of GET, POST, PUT, PATCH, DELETE"},
		{"other method", map[string]any{"url": "https://example.com", "method": "TRACE"}, "input method must be one of GET, POST, PUT, PATCH, DELETE"},
		{"method not a string", map[string]any{"url": "https://example.com", "method": true}, "input method must be a string"},
		{"headers not an object", map[string]any{"url": "https://example.com", "headers": "X: y"}, "input headers must be an object of strings"},
		{"header value not a string", map[string]any{"url": "https://example.com", "headers": map[string]any{"X-N": 1.0}}, "input headers.X-N must be a string"},
		{"header name with a space", map[string]any{"url": "https://example.com", "headers": map[string]any{"X N": "1"}}, "input headers.X N is not a valid header name"},
		{"header value with CRLF", map[string]any{"url": "https://example.com", "headers": map[string]any{"X-A": "1\r\nX-Injected: 2"}}, "input headers.X-A holds control characters"},
		{"Host header", map[string]any{"url": "https://example.com", "headers": map[string]any{"host": "internal"}}, "input headers.host may not be set: the connection sets it"},
		{"Transfer-Encoding header", map[string]any{"url": "https://example.com", "headers": map[string]any{"Transfer-Encoding": "chunked"}}, "input headers.Transfer-Encoding may not be set: the connection sets it"},
		{"body too large", map[string]any{"url": "https://example.com", "body": strings.Repeat("x", MaxBodyBytes+1)}, "input body is larger than 262144 bytes"},
	}
	for _, tt := range tests {
		_, err := ParseInput(tt.params)
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestParseInputDefaults(t *testing.T) {
	t.Parallel()
	r, err := ParseInput(map[string]any{"url": "https://hooks.example.com/a?b=c#d", "method": ""})
	if err != nil {
		t.Fatal(err)
	}
	if r.Method != "POST" || r.URL.String() != "https://hooks.example.com/a?b=c" || r.Body != nil || len(r.Headers) != 0 {
		t.Errorf("got %+v", r)
	}
}

// FuzzParseInput: any JSON object the engine could hand over either parses into a request the client
// can build, or is refused with an InputError; never a panic.
func FuzzParseInput(f *testing.F) {
	for _, s := range []string{
		`{"url":"https://example.com/hook"}`,
		`{"url":"http://127.0.0.1:9000/x","method":"PUT","headers":{"Authorization":"Bearer t"},"body":{"a":[1,2,{"b":null}]}}`,
		`{"url":"https://example.com","method":"GET","body":"text"}`,
		`{"url":"https://example.com","headers":{"X\r\n":"1"}}`,
		`{"url":"javascript:alert(1)"}`,
		`{"url":"http://[fe80::1%25eth0]:80/"}`,
		`{"url":5,"method":[],"headers":[],"body":1e400}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var params map[string]any
		if json.Unmarshal(raw, &params) != nil {
			return
		}
		r, err := ParseInput(params)
		if err != nil {
			if _, ok := err.(*InputError); !ok {
				t.Fatalf("error %T %v is not an InputError", err, err)
			}
			return
		}
		if r.URL == nil || (r.URL.Scheme != "http" && r.URL.Scheme != "https") || r.URL.Hostname() == "" {
			t.Fatalf("accepted URL %v", r.URL)
		}
		for k, v := range r.Headers {
			if !validHeaderName(k) || !validHeaderValue(v) {
				t.Fatalf("accepted header %q: %q", k, v)
			}
		}
		if len(r.Body) > MaxBodyBytes {
			t.Fatalf("accepted a %d-byte body", len(r.Body))
		}
	})
}
