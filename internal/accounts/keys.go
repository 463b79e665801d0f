package accounts

import (
	"github.com/kefu-im/kefu/storage"
)

// Record kinds: the byte after comp(site) in table 's' (see doc.go).
const (
	kindSite    byte = 'S' // 's' | comp(site) | 'S' | comp("")        → site JSON
	kindAgent   byte = 'A' // 's' | comp(site) | 'A' | comp(agent id)  → agent JSON
	kindEmail   byte = 'E' // 's' | comp(site) | 'E' | comp(lower(email)) → agent id
	kindSession byte = 'T' // 's' | comp("")   | 'T' | comp(sha256(token)) → session JSON
	kindGroup   byte = 'G' // 's' | comp(site) | 'G' | comp(group id)  → group JSON
	kindCanned  byte = 'C' // 's' | comp(site) | 'C' | comp(canned id) → canned reply JSON
	kindShort   byte = 'K' // 's' | comp(site) | 'K' | comp(lower(shortcut)) → canned id
	kindVisitor byte = 'V' // 's' | comp(site) | 'V' | comp(visitor id) → visitor JSON
	kindWebhook byte = 'W' // 's' | comp(site) | 'W' | comp(endpoint id) → webhook JSON
)

// appendKey builds 's' | comp(site) | kind | comp(id).
func appendKey(dst []byte, site string, kind byte, id string) []byte {
	dst = append(dst, storage.TableSites)
	dst = storage.AppendComponent(dst, site)
	dst = append(dst, kind)
	return storage.AppendComponent(dst, id)
}

// appendKindPrefix builds 's' | comp(site) | kind: the range of one kind of
// record of one site.
func appendKindPrefix(dst []byte, site string, kind byte) []byte {
	dst = append(dst, storage.TableSites)
	dst = storage.AppendComponent(dst, site)
	return append(dst, kind)
}

func siteKey(site string) []byte { return appendKey(nil, site, kindSite, "") }

func agentKey(site, id string) []byte { return appendKey(nil, site, kindAgent, id) }

func emailKey(site, lowerEmail string) []byte { return appendKey(nil, site, kindEmail, lowerEmail) }

// sessionKey is keyed by the SHA-256 of the token under the empty site
// component, which no real site can have (site ids are 1..128 bytes).
func sessionKey(hash []byte) []byte { return appendKey(nil, "", kindSession, string(hash)) }
