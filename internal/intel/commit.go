package intel

import "fmt"

// commit records a source's stats and, when it gave anything, adds its
// entries and publishes a new index. Entries of a list get the id of list;
// entries of cloud ranges carry indexes into metas, turned into ids here.
func (s *Set) commit(st SourceStats, es []entry, metas []cloudMeta, list string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats = append(s.stats, st)
	if len(es) == 0 {
		if len(st.Problems) > 0 {
			return fmt.Errorf("%s: %w (%d skipped; first: %w)", st.Source, ErrNoEntries, st.Skipped, st.Problems[0])
		}
		return fmt.Errorf("%s: %w", st.Source, ErrNoEntries)
	}
	if s.listID == nil {
		s.listID = map[string]int32{}
	}
	if s.cloudID == nil {
		s.cloudID = map[cloudMeta]int32{}
	}
	if list != "" {
		id, ok := s.listID[list]
		if !ok {
			id = int32(len(s.lists))
			s.lists = append(s.lists, list)
			s.listID[list] = id
		}
		for i := range es {
			es[i].list = id
		}
	}
	if len(metas) > 0 {
		ids := make([]int32, len(metas))
		for i, m := range metas {
			id, ok := s.cloudID[m]
			if !ok {
				id = int32(len(s.clouds))
				s.clouds = append(s.clouds, m)
				s.cloudID[m] = id
			}
			ids[i] = id
		}
		for i := range es {
			if es[i].cloud >= 0 {
				es[i].cloud = ids[es[i].cloud]
			}
		}
	}
	s.entries = append(s.entries, es...)
	s.rebuild()
	return nil
}
