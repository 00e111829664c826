package state

import (
	"fmt"
	"strings"
)

// Keys: "chat.<account>.<agent>.<chat>" and "agent.<account>.<agent>". Each
// part is escaped so that any input gives a valid KV key (letters, digits,
// '-', '_', '=', '.', '/') and different inputs never share a key: bytes
// other than letters, digits, '-' and '_' become "=XX" (hex), and an empty
// part becomes "=".

func escapePart(s string) string {
	if s == "" {
		return "="
	}
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('=')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0xF])
	}
	return b.String()
}

func unescapePart(s string) (string, error) {
	if s == "=" {
		return "", nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '=' {
			b.WriteByte(s[i])
			continue
		}
		hi, ok1 := unhex(s, i+1)
		lo, ok2 := unhex(s, i+2)
		if !ok1 || !ok2 {
			return "", fmt.Errorf("%w: bad escape in key part %q", ErrCorrupt, s)
		}
		b.WriteByte(hi<<4 | lo)
		i += 2
	}
	return b.String(), nil
}

func unhex(s string, i int) (byte, bool) {
	if i >= len(s) {
		return 0, false
	}
	switch c := s[i]; {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

const (
	chatKeyPrefix  = "chat."
	agentKeyPrefix = "agent."
)

func chatKey(account, agent, chatID string) string {
	return chatKeyPrefix + escapePart(account) + "." + escapePart(agent) + "." + escapePart(chatID)
}

func chatKeyFilter(account, agent string) string {
	return chatKeyPrefix + escapePart(account) + "." + escapePart(agent) + ".*"
}

func agentKey(account, agent string) string {
	return agentKeyPrefix + escapePart(account) + "." + escapePart(agent)
}

func chatIDFromKey(key string) (string, error) {
	i := strings.LastIndexByte(key, '.')
	if i < 0 || !strings.HasPrefix(key, chatKeyPrefix) {
		return "", fmt.Errorf("%w: not a chat key %q", ErrCorrupt, key)
	}
	return unescapePart(key[i+1:])
}
