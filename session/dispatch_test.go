package session

import (
	"sync"
	"testing"
)

func TestDispatcherKeepsOrderAndDrainsOnClose(t *testing.T) {
	d := newDispatcher()
	var mu sync.Mutex
	var got []int
	for i := 0; i < 1000; i++ {
		d.post(func() {
			mu.Lock()
			got = append(got, i)
			mu.Unlock()
		})
	}
	d.close()
	if len(got) != 1000 {
		t.Fatalf("ran %d callbacks before close returned, want 1000", len(got))
	}
	for i, v := range got {
		if v != i {
			t.Fatalf("callback %d ran at position %d", v, i)
		}
	}
	d.post(func() { t.Error("callback ran after close") })
}

func TestDispatcherSurvivesAPanickingHandler(t *testing.T) {
	d := newDispatcher()
	var recovered any
	d.onPanic = func(r any) { recovered = r }
	ran := false
	d.post(func() { panic("boom") })
	d.post(func() { ran = true })
	d.close()
	if recovered != "boom" || !ran {
		t.Fatalf("recovered %v, later callback ran %v; want the panic caught and the next callback run", recovered, ran)
	}
}
