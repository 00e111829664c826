package events

import (
	"net/url"
	"sync"

	"github.com/cloudevents/sdk-go/v2/types"
)

// maxCachedSources bounds uriCache's sources: one per agent of the
// bridge, but a command may name any agent, and those must not grow the
// cache without end.
const maxCachedSources = 10000

// uriCache keeps the parsed URIs of a Publisher's events, which would
// otherwise be parsed for every event: the dataschema of every type,
// parsed up front, and the source of every agent, parsed on first use.
type uriCache struct {
	base    string
	schemas map[Type]eventURIs // only the dataschema; read-only after newURICache; empty without a base

	mu      sync.RWMutex
	sources map[sourceKey]eventURIs // only the source
}

type sourceKey struct{ account, agent string }

// newURICache parses the dataschema of every type under base ("" for none).
func newURICache(base string) (*uriCache, error) {
	c := &uriCache{base: base, schemas: map[Type]eventURIs{}, sources: map[sourceKey]eventURIs{}}
	if base == "" {
		return c, nil
	}
	for _, t := range AllTypes() {
		u, err := url.Parse(DataSchema(base, t))
		if err != nil {
			return nil, err
		}
		var schema eventURIs
		schema.setSchema(&types.URI{URL: *u})
		c.schemas[t] = schema
	}
	return c, nil
}

// of returns the URIs of e: cached, or parsed (and cached, up to
// maxCachedSources agents).
func (c *uriCache) of(e Event) (eventURIs, error) {
	schema, known := c.schemas[e.Type]
	if c.base != "" && !known {
		return parseURIs(e, c.base) // an invalid type: Validate names it
	}
	key := sourceKey{e.Account, e.Agent}
	c.mu.RLock()
	uris, ok := c.sources[key]
	c.mu.RUnlock()
	if !ok {
		var err error
		if uris, err = parseURIs(e, ""); err != nil {
			return uris, err
		}
		c.mu.Lock()
		if len(c.sources) < maxCachedSources {
			c.sources[key] = uris
		}
		c.mu.Unlock()
	}
	uris.schema, uris.schemaHeader = schema.schema, schema.schemaHeader
	return uris, nil
}
