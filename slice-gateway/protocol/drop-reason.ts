// Every datagram the protocol refuses maps to exactly one of these reasons. They are return
// values, never exceptions: packet input is attacker-controlled, and a throw on the packet
// path would be a denial of service. The gateway counts them in
// slicenet_gateway_drops_total{reason}.

export const DROP_REASONS = {
  short: 'shorter than the smallest message of its type',
  bad_length: 'a handshake or cookie message whose length is not exactly its size',
  unknown_type: 'the type byte is not 1-4, or a reserved byte is not zero',
  bad_mac1: 'mac1 is not the MAC of the message under our static public key: not for us',
  bad_mac2_needed: 'we are under load and the message has no valid mac2: a cookie reply was sent',
  rate_limited: 'the source sent more handshake messages than its token bucket allows',
  unknown_index: 'the receiver index names no handshake or session of ours',
  unknown_peer: 'the initiator authenticated with a static key that is not one of our peers',
  decrypt_failed: 'the AEAD tag did not verify',
  bad_key: 'a public key is a low-order point (the Diffie-Hellman result is zero)',
  stale_timestamp: 'the initiation timestamp is not newer than the last one from that peer (a replay)',
  too_soon: 'a second initiation from the same peer within 20 ms',
  unexpected: 'a response to an index that is not a handshake of ours still waiting (a duplicate response)',
  replay: 'the transport counter was seen before or is behind the replay window',
  counter_limit: 'the transport counter is at or past the reject-after-messages limit',
  expired: 'the session keys are older than the reject-after-time limit',
} as const;

export type DropReason = keyof typeof DROP_REASONS;
