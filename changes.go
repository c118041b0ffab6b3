package seshat

import "iter"

// changeSet records which keys a request changed and how (the last Op per
// key wins), in the order first changed. Most requests change one to four
// keys, so it is a slice searched linearly, backed by an array inside the
// set (and so inside the Session, which is allocated anyway): no allocation
// for the first inlineChanges keys. A request that changes many keys
// (MarkModified or Clear on a large session) gets a map index once the
// slice passes indexAfter entries, so a change stays O(1) there.
//
// A changeSet must not be copied once used: the copy's list would share
// the original's array.
type changeSet struct {
	list  []keyOp
	index map[string]int // position in list; nil until len(list) > indexAfter
	first [inlineChanges]keyOp
}

// inlineChanges is how many changed keys fit without an allocation: a
// login sets about four (user id, CSRF token, a preference or two).
const inlineChanges = 4

type keyOp struct {
	key string
	op  Op
}

// indexAfter is how many keys are searched linearly before the set builds
// an index; comparing a few short strings is cheaper than hashing.
const indexAfter = 16

// set records op for key.
func (c *changeSet) set(key string, op Op) {
	if c.index != nil {
		if i, ok := c.index[key]; ok {
			c.list[i].op = op
			return
		}
	} else {
		for i := range c.list {
			if c.list[i].key == key {
				c.list[i].op = op
				return
			}
		}
	}
	if c.list == nil {
		c.list = c.first[:0]
	}
	c.list = append(c.list, keyOp{key, op})
	switch n := len(c.list); {
	case c.index != nil:
		c.index[key] = n - 1
	case n > indexAfter:
		c.index = make(map[string]int, 2*n)
		for i, e := range c.list {
			c.index[e.key] = i
		}
	}
}

// get returns the last Op recorded for key.
func (c *changeSet) get(key string) (Op, bool) {
	if c.index != nil {
		if i, ok := c.index[key]; ok {
			return c.list[i].op, true
		}
		return 0, false
	}
	for _, e := range c.list {
		if e.key == key {
			return e.op, true
		}
	}
	return 0, false
}

// len is the number of keys changed.
func (c *changeSet) len() int { return len(c.list) }

// all yields each changed key with its last Op.
func (c *changeSet) all() iter.Seq2[string, Op] {
	return func(yield func(string, Op) bool) {
		for _, e := range c.list {
			if !yield(e.key, e.op) {
				return
			}
		}
	}
}

// reset forgets every change.
func (c *changeSet) reset() { *c = changeSet{} }
