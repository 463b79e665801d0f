package routing

// affinity remembers, per site, the last agent of each visitor (level 3),
// bounded: past max entries the least recently routed visitor is
// forgotten. A removed agent is never returned (an agent created later
// with the same id is a new agent). Nodes live in one slice linked by index, so once full an
// update allocates nothing (the evicted node is reused).
//
//	head (most recent) ⇄ node ⇄ node ⇄ … ⇄ tail (evicted next)
type affinity struct {
	idx        map[string]int32
	nodes      []affNode
	head, tail int32 // -1 when empty
	max        int
}

type affNode struct {
	visitor    string
	agent      *agent
	prev, next int32
}

func newAffinity(max int) affinity {
	return affinity{idx: make(map[string]int32), head: -1, tail: -1, max: max}
}

func (l *affinity) len() int { return len(l.idx) }

// get returns the visitor's last agent, nil if none or if that agent was
// removed since; it does not refresh recency (the assignment that follows
// does, through put).
func (l *affinity) get(visitor string) *agent {
	i, ok := l.idx[visitor]
	if !ok || l.nodes[i].agent.removed {
		return nil
	}
	return l.nodes[i].agent
}

// put records a as visitor's last agent and makes it most recent.
func (l *affinity) put(visitor string, a *agent) {
	if i, ok := l.idx[visitor]; ok {
		l.nodes[i].agent = a
		l.unlink(i)
		l.pushHead(i)
		return
	}
	var i int32
	if len(l.nodes) < l.max {
		l.nodes = append(l.nodes, affNode{})
		i = int32(len(l.nodes) - 1)
	} else {
		i = l.tail
		l.unlink(i)
		delete(l.idx, l.nodes[i].visitor)
	}
	l.nodes[i].visitor, l.nodes[i].agent = visitor, a
	l.idx[visitor] = i
	l.pushHead(i)
}

func (l *affinity) unlink(i int32) {
	n := &l.nodes[i]
	if n.prev >= 0 {
		l.nodes[n.prev].next = n.next
	} else {
		l.head = n.next
	}
	if n.next >= 0 {
		l.nodes[n.next].prev = n.prev
	} else {
		l.tail = n.prev
	}
	n.prev, n.next = -1, -1
}

func (l *affinity) pushHead(i int32) {
	n := &l.nodes[i]
	n.prev, n.next = -1, l.head
	if l.head >= 0 {
		l.nodes[l.head].prev = i
	}
	l.head = i
	if l.tail < 0 {
		l.tail = i
	}
}
