// Package harness starts the test world: livekit-server processes, network
// namespaces with nftables faults, a signalling proxy, real GStreamer
// pipelines and a real LiveKit subscriber that records what arrives.
package harness
