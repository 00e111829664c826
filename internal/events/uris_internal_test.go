package events

import (
	"fmt"
	"maps"
	"slices"
	"testing"
)

// The Publisher's cached URIs encode every event exactly as Encode does.
func TestURICacheEncodesAsEncode(t *testing.T) {
	for _, base := range []string{DefaultDataSchemaBase, ""} {
		c, err := newURICache(base)
		if err != nil {
			t.Fatal(err)
		}
		for _, enc := range []Encoding{Binary, Structured} {
			for _, e := range Examples() {
				for range 2 { // parsed, then cached
					want, err := Encode(e, enc, base)
					if err != nil {
						t.Fatal(err)
					}
					uris, err := c.of(e)
					if err != nil {
						t.Fatal(err)
					}
					got, err := encode(e, enc, uris)
					if err != nil {
						t.Fatal(err)
					}
					if string(got.Data) != string(want.Data) || !maps.EqualFunc(got.Header, want.Header, slices.Equal) {
						t.Errorf("%s %s base %q:\n got %v %s\nwant %v %s", e.Type, enc, base, got.Header, got.Data, want.Header, want.Data)
					}
				}
			}
		}
	}
}

func TestURICacheIsBounded(t *testing.T) {
	c, err := newURICache(DefaultDataSchemaBase)
	if err != nil {
		t.Fatal(err)
	}
	e := Examples()[4]
	for i := range maxCachedSources + 10 {
		e.Agent = fmt.Sprintf("agent-%d", i)
		uris, err := c.of(e)
		if err != nil {
			t.Fatal(err)
		}
		if want := Source(e.Account, e.Agent); uris.source.String() != want {
			t.Fatalf("source %s, want %s", uris.source.String(), want)
		}
	}
	if n := len(c.sources); n != maxCachedSources {
		t.Errorf("%d sources cached, want the bound %d", n, maxCachedSources)
	}
}
