package plugin

/*
#include "lk.h"
*/
import "C"

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golivekitsink/golivekitsink/session"
)

// Simulcast from upstream encoders (pad properties simulcast-group and
// layer; the GStreamer form of server-sdk-go's PublishSimulcastTrack):
// encoded video pads of one group become the layers of one track, named
// after the group. The track is published once every pad of the group that
// exists then has caps (pads are requested before PLAYING, so this is every
// pad of the group); a pad that joins a published group is not part of it.
// The group's high pad owns the track (its spec, stats, pad-for-track).

type simulcastGroup struct {
	name    string
	owner   *sinkPad // the high layer's pad
	quality map[*sinkPad]session.Quality
	failed  bool // refused (named in a WARNING); its pads send nothing
}

// groupMember is what a group pad knows once its caps came. element.mu.
type groupMember struct {
	quality session.Quality
	spec    session.TrackSpec
}

func (g *simulcastGroup) padFor(q session.Quality) *sinkPad {
	for p, pq := range g.quality {
		if pq == q {
			return p
		}
	}
	return nil
}

func (p *sinkPad) group() *simulcastGroup { return p.grp.Load() }

func (p *sinkPad) groupQuality() (session.Quality, bool) {
	g := p.grp.Load()
	if g == nil || g.failed {
		return 0, false
	}
	q, ok := g.quality[p]
	return q, ok
}

// publishedTrack is the track p's frames go to: its own, or its group's.
func (p *sinkPad) publishedTrack() *session.Track {
	if g := p.grp.Load(); g != nil {
		if g.failed {
			return nil
		}
		return g.owner.track.Load()
	}
	return p.track.Load()
}

// onGroupCaps is onCaps for an encoded video pad of a simulcast group.
func (p *sinkPad) onGroupCaps(cs *chainSpec, spec session.TrackSpec, group string) bool {
	e := p.e
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.chain != nil {
		if p.chain.spec.key != cs.key {
			postWarning(e.gst, C.lk_stream_error_quark(), C.GST_STREAM_ERROR_FORMAT,
				fmt.Sprintf("%s: codec of simulcast group %q layer changed to %s: not supported, caps refused", p.name, group, cs.media), "")
			return false
		}
		return true // a new size within a group: the layers keep the sizes they were published with
	}
	e.mu.Lock()
	released := p.released
	e.mu.Unlock()
	if released {
		return false
	}
	p.gen++
	c, err := buildChain(e, p, cs, p.gen)
	if err != nil {
		postError(e.gst, C.lk_core_error_quark(), C.GST_CORE_ERROR_NEGOTIATION, err.Error(), "")
		return false
	}
	p.chain = c
	p.setAppsink(c.appsink)

	q := p.simulcastLayer()
	e.mu.Lock()
	defer e.mu.Unlock()
	p.member = &groupMember{quality: q, spec: spec}
	e.publishGroupLocked(group, p)
	return true
}

// publishGroupLocked publishes group once every pad of it has caps, after
// checking the layers (a high one, one pad per layer, one codec). e.mu is held.
func (e *element) publishGroupLocked(group string, last *sinkPad) {
	var members []*sinkPad
	for _, p := range e.pads {
		if !p.released && p.video && p.simulcastGroup() == group {
			if p.member == nil {
				return // wait for this pad's caps
			}
			if p != last && p.grp.Load() != nil {
				// The group was published (or refused) before last came.
				postWarning(e.gst, C.lk_stream_error_quark(), C.GST_STREAM_ERROR_FORMAT,
					fmt.Sprintf("%s: joined simulcast group %q after it was published; the pad sends nothing", last.name, group), "")
				last.grp.Store(&simulcastGroup{name: group, failed: true})
				return
			}
			members = append(members, p)
		}
	}
	slices.SortFunc(members, func(a, b *sinkPad) int { return int(a.member.quality) - int(b.member.quality) })
	g := &simulcastGroup{name: group, quality: map[*sinkPad]session.Quality{}}
	var names []string
	problem := ""
	for i, p := range members {
		names = append(names, fmt.Sprintf("%s (%s, %s)", p.name, strings.ToLower(p.member.quality.String()), p.member.spec.Codec))
		if i > 0 && members[i-1].member.quality == p.member.quality {
			problem = fmt.Sprintf("two pads are layer %s", strings.ToLower(p.member.quality.String()))
		}
		if p.member.spec.Codec != members[0].member.spec.Codec {
			problem = "the layers' codecs differ"
		}
		g.quality[p] = p.member.quality
	}
	if problem == "" && members[len(members)-1].member.quality != session.QualityHigh {
		problem = "no pad is layer high"
	}
	if problem != "" {
		postWarning(e.gst, C.lk_stream_error_quark(), C.GST_STREAM_ERROR_FORMAT,
			fmt.Sprintf("simulcast group %q not published: %s; pads %s send nothing", group, problem, strings.Join(names, ", ")), "")
		g.failed = true
		for _, p := range members {
			p.grp.Store(g)
		}
		return
	}
	owner := members[len(members)-1]
	spec := owner.member.spec
	spec.Name = group
	for _, p := range members {
		spec.Layers = append(spec.Layers, session.LayerSpec{Quality: p.member.quality, Width: p.member.spec.Width, Height: p.member.spec.Height})
	}
	g.owner = owner
	for _, p := range members {
		p.grp.Store(g)
	}
	owner.spec = &spec
	e.infof("simulcast group %q: publishing pads %s as one track", group, strings.Join(names, ", "))
	e.publishReadyLocked()
}

func ptsDuration(pts C.int64_t) time.Duration { return time.Duration(pts) }

// The pad properties the simulcast code reads (padclass.go).
func (p *sinkPad) simulcastLayerCount() int { return int(p.padProps().simulcastLayers) }

func (p *sinkPad) simulcastGroup() string {
	if g := p.padProps().simulcastGroup; g != nil {
		return *g
	}
	return ""
}

func (p *sinkPad) simulcastLayer() session.Quality { return session.Quality(p.padProps().layer) }
