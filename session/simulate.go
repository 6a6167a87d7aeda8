package session

import (
	"fmt"

	"github.com/livekit/protocol/livekit"
)

// Simulate sends LiveKit's SimulateScenario by name, for rehearsing failures:
// node-failure, migration, server-leave, speaker-update, switch-candidate-tcp,
// switch-candidate-tls, switch-candidate-udp, leave-full-reconnect,
// disconnect-signal-on-resume, disconnect-signal-on-resume-no-messages, and
// the client-side resume. As in LiveKit's JS SDK, leave-full-reconnect and
// switch-candidate-* are followed by a local full reconnect (the server does
// not act on the first, and the second takes effect on the next join).
func (s *Session) Simulate(name string) error {
	sc, err := scenario(name)
	if err != nil {
		return err
	}
	return s.call(func(s *Session) error { return s.onSimulate(sc) })
}

// scenario maps a Simulate name to LiveKit's SimulateScenario.
func scenario(name string) (*livekit.SimulateScenario, error) {
	sc := &livekit.SimulateScenario{}
	switch name {
	case "node-failure":
		sc.Scenario = &livekit.SimulateScenario_NodeFailure{NodeFailure: true}
	case "migration":
		sc.Scenario = &livekit.SimulateScenario_Migration{Migration: true}
	case "server-leave":
		sc.Scenario = &livekit.SimulateScenario_ServerLeave{ServerLeave: true}
	case "speaker-update":
		sc.Scenario = &livekit.SimulateScenario_SpeakerUpdate{SpeakerUpdate: 3}
	case "switch-candidate-tcp":
		sc.Scenario = &livekit.SimulateScenario_SwitchCandidateProtocol{SwitchCandidateProtocol: livekit.CandidateProtocol_TCP}
	case "switch-candidate-tls":
		sc.Scenario = &livekit.SimulateScenario_SwitchCandidateProtocol{SwitchCandidateProtocol: livekit.CandidateProtocol_TLS}
	case "switch-candidate-udp":
		sc.Scenario = &livekit.SimulateScenario_SwitchCandidateProtocol{SwitchCandidateProtocol: livekit.CandidateProtocol_UDP}
	case "leave-full-reconnect", "full-reconnect":
		sc.Scenario = &livekit.SimulateScenario_LeaveRequestFullReconnect{LeaveRequestFullReconnect: true}
	case "resume":
		sc.Scenario = nil // client side only
	case "disconnect-signal-on-resume":
		sc.Scenario = &livekit.SimulateScenario_DisconnectSignalOnResume{DisconnectSignalOnResume: true}
	case "disconnect-signal-on-resume-no-messages":
		sc.Scenario = &livekit.SimulateScenario_DisconnectSignalOnResumeNoMessages{DisconnectSignalOnResumeNoMessages: true}
	default:
		return nil, fmt.Errorf("%w %q", ErrUnknownScenario, name)
	}
	return sc, nil
}

// onSimulate sends a SimulateScenario and plays the client side of those
// scenarios the server leaves to the client.
func (s *Session) onSimulate(sc *livekit.SimulateScenario) error {
	if sc.GetScenario() != nil {
		if err := s.send(&livekit.SignalRequest{Message: &livekit.SignalRequest_Simulate{Simulate: sc}}); err != nil {
			return err
		}
	}
	switch sc.GetScenario().(type) {
	case nil:
		s.fire(happening{tr: trSimulatedResume, reason: "simulated resume"})
	case *livekit.SimulateScenario_LeaveRequestFullReconnect:
		s.fire(happening{tr: trSimulatedReconnect, reason: "simulated full reconnect"})
	case *livekit.SimulateScenario_SwitchCandidateProtocol:
		// The new candidate preference applies to the next join; newer
		// servers store it asynchronously, so the machine waits a moment.
		s.fire(happening{tr: trSimulatedSwitch, reason: "simulated full reconnect"})
	}
	return nil
}
