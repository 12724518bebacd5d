package sessionkit

// RaceEnabled tells the external tests whether the race detector is on.
const RaceEnabled = raceEnabled

// seal encodes a payload into a cookie value with the first key pair, in
// the current format (seal.go), for the tests: the Manager seals sessions
// with sealWrite. The value owns its memory; payload is not retained.
func (c *cookieCodec) seal(payload []byte) (string, error) {
	bp, raw := sealRaw(c.keys[0], c.ad, func(b []byte) []byte { return append(b, payload...) })
	defer putBuf(bp)
	if err := c.checkSize(raw); err != nil {
		return "", err
	}
	return encodeValue(raw), nil
}
