package routing

import (
	"slices"

	"github.com/kefu-im/kefu/internal/fnv"
)

// hashRing maps a key hash to one of the groups serving a tag (level 1).
// Each group owns VirtualNodes points on a 64-bit circle; a key belongs to
// the first point at or after its hash, wrapping around. Adding a group
// takes over only the arcs just before its own points, so about 1/N of the
// keys move, all of them to the new group; removing one hands its arcs to
// the next points, so only its own keys move.
//
//	0 ──●a──●b────●a──key──●c──●b────●c──► 2⁶⁴ (wraps)
//	                   └──► c owns key
type hashRing struct {
	points []uint64 // sorted
	owners []*group // owners[i] owns points[i]
	groups []*group // distinct groups, in configuration order
}

// buildRing lays out groups on a new ring; nil when groups is empty.
func buildRing(groups []*group, vnodes int) *hashRing {
	if len(groups) == 0 {
		return nil
	}
	type pt struct {
		p uint64
		g *group
	}
	pts := make([]pt, 0, len(groups)*vnodes)
	for _, g := range groups {
		base := fnv.String64(g.id)
		for i := range vnodes {
			pts = append(pts, pt{vnodePoint(base, i), g})
		}
	}
	slices.SortFunc(pts, func(a, b pt) int {
		switch {
		case a.p < b.p:
			return -1
		case a.p > b.p:
			return 1
		case a.g.id < b.g.id: // a collision: keep the order deterministic
			return -1
		case a.g.id > b.g.id:
			return 1
		}
		return 0
	})
	h := &hashRing{
		points: make([]uint64, len(pts)),
		owners: make([]*group, len(pts)),
		groups: slices.Clone(groups),
	}
	for i, p := range pts {
		h.points[i], h.owners[i] = p.p, p.g
	}
	return h
}

// index returns the point that owns key: the first at or after it.
func (h *hashRing) index(key uint64) int {
	lo, hi := 0, len(h.points)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if h.points[m] < key {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == len(h.points) {
		return 0
	}
	return lo
}

// owner returns the group that owns key on the bare ring.
func (h *hashRing) owner(key uint64) *group { return h.owners[h.index(key)] }

// pick returns the group for key, skipping groups with nobody online: it
// walks clockwise from the key's point to the first group with an online
// member. If no group on the ring has one, the key's owner is returned and
// the conversation waits there.
func (h *hashRing) pick(key uint64) *group {
	i := h.index(key)
	first := h.owners[i]
	if first.online > 0 {
		return first
	}
	anyOnline := false
	for _, g := range h.groups {
		if g.online > 0 {
			anyOnline = true
			break
		}
	}
	if !anyOnline {
		return first
	}
	n := len(h.points)
	for j := 1; j < n; j++ {
		if g := h.owners[(i+j)%n]; g.online > 0 {
			return g
		}
	}
	return first
}

// mix64 is the SplitMix64 finaliser: it spreads FNV's weak low bits over
// the whole word, so keys that differ in one byte land far apart.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// keyHash places a routing key on the ring.
func keyHash(s string) uint64 { return mix64(fnv.String64(s)) }

// vnodePoint is the i-th point of a group whose id hashes to base: a
// SplitMix64 sequence seeded by the id.
func vnodePoint(base uint64, i int) uint64 {
	return mix64(base + uint64(i+1)*0x9e3779b97f4a7c15)
}
