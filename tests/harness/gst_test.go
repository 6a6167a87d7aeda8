package harness

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestSplitArgs(t *testing.T) {
	for in, want := range map[string][]string{
		`a ! b  c=d`:                             {"a", "!", "b", "c=d"},
		`x 'a b' "c \"d\"" e\ f`:                 {"x", "a b", `c "d"`, "e f"},
		`caps="video/x-raw,format=(string)I420"`: {"caps=video/x-raw,format=(string)I420"},
		`signaller::ws-url=ws://h:1 a=''`:        {"signaller::ws-url=ws://h:1", "a="},
	} {
		got, err := SplitArgs(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("SplitArgs(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := SplitArgs(`a 'b`); err == nil {
		t.Error("unterminated quote accepted")
	}
}

func TestParseStructure(t *testing.T) {
	f := ParseStructure(`golivekitsink-connection, state=(string)connected, reason=(string)"a, b", attempt=(uint)2, track-sids=(string)< "TR_1", "TR_2" >;`)
	if f[""] != "golivekitsink-connection" || f["state"] != "connected" || f["reason"] != "a, b" || f["attempt"] != "2" {
		t.Errorf("ParseStructure: %v", f)
	}
	if !strings.Contains(f["track-sids"], "TR_2") {
		t.Errorf("track-sids = %q", f["track-sids"])
	}
	f = ParseStructure(`golivekitsink-bitrate, target-bitrate=(uint)315000, encoder-bitrates=(string)"video_0\=315000\,\ x\\y";`)
	if f["target-bitrate"] != "315000" || f["encoder-bitrates"] != `video_0=315000, x\y` {
		t.Errorf("escaped string: %q", f["encoder-bitrates"])
	}
}

func TestPipelineErrorsAndMessages(t *testing.T) {
	p := RunPipelineIn(t, t.TempDir(), `filesrc location=/nonexistent/x ! fakesink`)
	if code := p.Wait(30 * time.Second); code == 0 {
		t.Fatalf("exit 0 for a missing file")
	}
	errs := p.Errors()
	if len(errs) == 0 || !strings.Contains(errs[0], "Resource not found") || !strings.Contains(errs[0], `No such file "/nonexistent/x"`) {
		t.Fatalf("Errors() = %q\noutput:\n%s", errs, p.Output())
	}

	p = RunPipelineIn(t, t.TempDir(), `audiotestsrc num-buffers=20 ! level interval=20000000 post-messages=true ! fakesink`)
	if code := p.Wait(30 * time.Second); code != 0 {
		t.Fatalf("exit %d\n%s", code, p.Output())
	}
	msgs := p.ElementMessages("level")
	if len(msgs) < 5 {
		t.Fatalf("ElementMessages(level) = %d messages\n%s", len(msgs), p.Output())
	}
	if f := ParseStructure(msgs[0]); f[""] != "level" || f["duration"] == "" {
		t.Errorf("parsed %v", f)
	}
	if _, ok := p.WaitForElementMessage("level", time.Second, func(f map[string]string) bool { return f["endtime"] != "" }); !ok {
		t.Error("WaitForElementMessage found nothing")
	}
	if len(p.Errors()) != 0 || len(p.Warnings()) != 0 {
		t.Errorf("errors %q warnings %q", p.Errors(), p.Warnings())
	}
}

func TestPipelineInterruptGivesEOS(t *testing.T) {
	p := RunPipelineIn(t, t.TempDir(), `videotestsrc is-live=true ! fakesink`)
	time.Sleep(1500 * time.Millisecond)
	if p.Exited() {
		t.Fatalf("exited early:\n%s", p.Output())
	}
	p.Interrupt()
	if code := p.Wait(15 * time.Second); code != 0 {
		t.Fatalf("exit %d after SIGINT\n%s", code, p.Output())
	}
	if !strings.Contains(p.Output(), "EOS") {
		t.Errorf("no EOS in output:\n%s", p.Output())
	}
}
