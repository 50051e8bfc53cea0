package intel

import (
	"cmp"
	"encoding/binary"
	"net/netip"
	"slices"
	"sort"
)

// entry is one loaded address or prefix with what its source says of it.
type entry struct {
	p     netip.Prefix // masked; IPv4 prefixes are unmapped
	tor   bool
	list  int32 // reputation list id, or -1
	cloud int32 // cloud label id, or -1
}

// cloudMeta labels a cloud range. rank orders labels of the same prefix:
// a regional service tag beats a global one, which beats the provider's
// catch-all ("AzureCloud", "AMAZON").
type cloudMeta struct {
	cloud, service, region string
	rank                   int8
}

// attrs is what the index knows of a range, before it becomes a Class.
type attrs struct {
	tor   bool
	lists []int32 // sorted list ids
	cloud int32   // -1 when none
}

// nested returns what is known of an address inside parent's range with
// child's own attributes: the union of lists, and the most specific cloud
// label.
func nested(parent, child attrs) attrs {
	out := attrs{tor: parent.tor || child.tor, lists: union(parent.lists, child.lists), cloud: parent.cloud}
	if child.cloud >= 0 {
		out.cloud = child.cloud
	}
	return out
}

func union(a, b []int32) []int32 {
	if len(b) == 0 {
		return a
	}
	if len(a) == 0 {
		return b
	}
	out := append(slices.Clone(a), b...)
	slices.Sort(out)
	return slices.Compact(out)
}

// u128 is an address as a number; IPv4 addresses use lo only.
type u128 struct{ hi, lo uint64 }

func (a u128) less(b u128) bool { return a.hi < b.hi || (a.hi == b.hi && a.lo < b.lo) }

func (a u128) next() u128 {
	if a.lo == ^uint64(0) {
		return u128{a.hi + 1, 0}
	}
	return u128{a.hi, a.lo + 1}
}

// bounds returns the first and last address of p as numbers.
func bounds(p netip.Prefix) (lo, hi u128) {
	if p.Addr().Is4() {
		b := p.Addr().As4()
		v := uint64(binary.BigEndian.Uint32(b[:]))
		span := uint64(1)<<(32-p.Bits()) - 1
		return u128{0, v}, u128{0, v | span}
	}
	b := p.Addr().As16()
	lo = u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
	hi = lo
	if n := 128 - p.Bits(); n >= 64 {
		hi.lo = ^uint64(0)
		if n > 64 {
			hi.hi |= ^uint64(0) >> (128 - n)
		}
	} else if n > 0 {
		hi.lo |= ^uint64(0) >> (64 - n)
	}
	return lo, hi
}

// index is the immutable lookup structure Classify reads: single addresses
// in maps, prefixes flattened into disjoint sorted segments (a segment runs
// from its start to the next one's), each pointing at an interned Class.
// Info 0 is the zero Class.
type index struct {
	infos  []Class
	exact4 map[uint32]int32
	exact6 map[[16]byte]int32
	start4 []uint32
	seg4   []int32
	start6 []u128
	seg6   []int32
}

func (x *index) lookup(a netip.Addr) Class {
	if a.Is4() {
		b := a.As4()
		v := binary.BigEndian.Uint32(b[:])
		if i, ok := x.exact4[v]; ok {
			return x.infos[i]
		}
		// The last segment starting at or before v.
		lo, hi := 0, len(x.start4)
		for lo < hi {
			m := int(uint(lo+hi) >> 1)
			if x.start4[m] <= v {
				lo = m + 1
			} else {
				hi = m
			}
		}
		if lo == 0 {
			return Class{}
		}
		return x.infos[x.seg4[lo-1]]
	}
	b := a.As16()
	if i, ok := x.exact6[b]; ok {
		return x.infos[i]
	}
	v := u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
	lo, hi := 0, len(x.start6)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if !v.less(x.start6[m]) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == 0 {
		return Class{}
	}
	return x.infos[x.seg6[lo-1]]
}

// builder interns attrs into Classes while an index is built.
type builder struct {
	s     *Set
	x     *index
	attrs []attrs
	ids   map[string]int32
	key   []byte
}

func (b *builder) intern(a attrs) int32 {
	k := b.key[:0]
	if a.tor {
		k = append(k, 1)
	} else {
		k = append(k, 0)
	}
	k = binary.AppendVarint(k, int64(a.cloud))
	for _, l := range a.lists {
		k = binary.AppendVarint(k, int64(l))
	}
	b.key = k
	if id, ok := b.ids[string(k)]; ok {
		return id
	}
	c := Class{Tor: a.tor}
	if len(a.lists) > 0 {
		c.Lists = make([]string, len(a.lists))
		for i, l := range a.lists {
			c.Lists[i] = b.s.lists[l]
		}
		slices.Sort(c.Lists)
	}
	if a.cloud >= 0 {
		m := b.s.clouds[a.cloud]
		c.Cloud, c.Service, c.Region = m.cloud, m.service, m.region
	}
	id := int32(len(b.x.infos))
	b.x.infos = append(b.x.infos, c)
	b.attrs = append(b.attrs, a)
	b.ids[string(k)] = id
	return id
}

// node is one distinct prefix with the merged attributes of its entries.
type node struct {
	lo, hi u128
	own    attrs
}

// rebuild makes a new index from s.entries and publishes it. s.mu is held.
func (s *Set) rebuild() {
	x := &index{exact4: map[uint32]int32{}, exact6: map[[16]byte]int32{}}
	b := &builder{s: s, x: x, ids: map[string]int32{}}
	b.intern(attrs{cloud: -1}) // info 0: nothing known

	var v4, v6, host4, host6 []entry
	for _, e := range s.entries {
		switch {
		case e.p.Addr().Is4() && e.p.Bits() == 32:
			host4 = append(host4, e)
		case e.p.Addr().Is4():
			v4 = append(v4, e)
		case e.p.Bits() == 128:
			host6 = append(host6, e)
		default:
			v6 = append(v6, e)
		}
	}
	x.start4, x.seg4 = segments4(b, s.nodes(v4))
	var starts6 []u128
	starts6, x.seg6 = b.segments(s.nodes(v6), u128{^uint64(0), ^uint64(0)})
	x.start6 = starts6
	for _, n := range s.nodes(host4) {
		v := uint32(n.lo.lo)
		x.exact4[v] = b.intern(nested(b.attrs[x.lookupSeg4(v)], n.own))
	}
	for _, n := range s.nodes(host6) {
		var k [16]byte
		binary.BigEndian.PutUint64(k[:8], n.lo.hi)
		binary.BigEndian.PutUint64(k[8:], n.lo.lo)
		x.exact6[k] = b.intern(nested(b.attrs[x.lookupSeg6(n.lo)], n.own))
	}
	s.idx.Store(x)
}

func segments4(b *builder, nodes []node) ([]uint32, []int32) {
	starts, segs := b.segments(nodes, u128{0, 1<<32 - 1})
	out := make([]uint32, len(starts))
	for i, st := range starts {
		out[i] = uint32(st.lo)
	}
	return out, segs
}

func (x *index) lookupSeg4(v uint32) int32 {
	i := sort.Search(len(x.start4), func(i int) bool { return x.start4[i] > v })
	if i == 0 {
		return 0
	}
	return x.seg4[i-1]
}

func (x *index) lookupSeg6(v u128) int32 {
	i := sort.Search(len(x.start6), func(i int) bool { return v.less(x.start6[i]) })
	if i == 0 {
		return 0
	}
	return x.seg6[i-1]
}

// nodes sorts entries of one family into distinct prefixes, widest first
// among those that start at the same address, merging the attributes of
// entries for the same prefix (the best-ranked cloud label wins; on a tie
// the first loaded).
func (s *Set) nodes(es []entry) []node {
	type ranged struct {
		lo, hi u128
		e      entry
	}
	rs := make([]ranged, len(es))
	for i, e := range es {
		lo, hi := bounds(e.p)
		rs[i] = ranged{lo, hi, e}
	}
	slices.SortStableFunc(rs, func(a, b ranged) int {
		if c := cmpU128(a.lo, b.lo); c != 0 {
			return c
		}
		return cmpU128(b.hi, a.hi)
	})
	var out []node
	for _, r := range rs {
		if len(out) == 0 || out[len(out)-1].lo != r.lo || out[len(out)-1].hi != r.hi {
			out = append(out, node{lo: r.lo, hi: r.hi, own: attrs{cloud: -1}})
		}
		n := &out[len(out)-1]
		n.own.tor = n.own.tor || r.e.tor
		if r.e.list >= 0 {
			n.own.lists = union(n.own.lists, []int32{r.e.list})
		}
		if r.e.cloud >= 0 && (n.own.cloud < 0 || s.clouds[r.e.cloud].rank > s.clouds[n.own.cloud].rank) {
			n.own.cloud = r.e.cloud
		}
	}
	return out
}

func cmpU128(a, b u128) int {
	if c := cmp.Compare(a.hi, b.hi); c != 0 {
		return c
	}
	return cmp.Compare(a.lo, b.lo)
}

// segments flattens sorted nodes, which nest or are disjoint as prefixes
// do, into disjoint segments covering [0, max]: each segment's start and the
// interned info of its innermost covering prefixes (0 in gaps). Adjacent
// segments with the same info are merged.
func (b *builder) segments(nodes []node, max u128) ([]u128, []int32) {
	var starts []u128
	var infos []int32
	emit := func(from u128, info int32) {
		if n := len(infos); n > 0 && infos[n-1] == info {
			return
		}
		starts = append(starts, from)
		infos = append(infos, info)
	}
	type frame struct {
		hi  u128
		cum int32
	}
	var stack []frame
	top := func() int32 {
		if len(stack) == 0 {
			return 0
		}
		return stack[len(stack)-1].cum
	}
	cur, more := u128{}, true // more: cur has not run past max
	for _, n := range nodes {
		for len(stack) > 0 && stack[len(stack)-1].hi.less(n.lo) {
			f := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if !f.hi.less(cur) {
				emit(cur, f.cum)
			}
			cur = f.hi.next() // f.hi < n.lo <= max: no overflow
		}
		if cur.less(n.lo) {
			emit(cur, top())
		}
		cur = n.lo
		stack = append(stack, frame{n.hi, b.intern(nested(b.attrs[top()], n.own))})
	}
	for len(stack) > 0 {
		f := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if more && !f.hi.less(cur) {
			emit(cur, f.cum)
		}
		if f.hi == max {
			more = false
		} else {
			cur = f.hi.next()
		}
	}
	if more {
		emit(cur, 0)
	}
	return starts, infos
}
