package main

import (
	"fmt"
	"unicode/utf8"
)

// minCutBody is the smallest limit worth spending on a truncation marker.
const minCutBody = 32

// fitBody builds a POST body, the message then the log, of at most limit
// bytes. The server would keep only the first bytes and drop the end of the
// log, usually the part that says what went wrong; so an oversized body
// keeps the message and the end of the log, with a marker in between
// saying how much was cut.
func fitBody(message string, log []byte, limit int) []byte {
	body := make([]byte, 0, len(message)+1+len(log))
	body = append(body, message...)
	if message != "" && len(log) > 0 {
		body = append(body, '\n')
	}
	body = append(body, log...)
	if len(body) <= limit {
		return body
	}
	marker := func(cut int) string {
		return fmt.Sprintf("\n[… %d bytes cut by heartbeat to fit the server's limit of %d bytes …]\n", cut, limit)
	}
	room := limit - len(marker(len(body))) // the longest marker this body can need
	if room < minCutBody {
		return body[:runeStartBefore(body, limit)]
	}
	headLen := runeStartBefore(body, min(len(message), room/2))
	tailStart := runeStartAfter(body, len(body)-(room-headLen))
	out := make([]byte, 0, limit)
	out = append(out, body[:headLen]...)
	out = append(out, marker(tailStart-headLen)...)
	return append(out, body[tailStart:]...)
}

// runeStartBefore moves i back to the start of a UTF-8 character, so a cut
// never splits one.
func runeStartBefore(b []byte, i int) int {
	for i > 0 && i < len(b) && !utf8.RuneStart(b[i]) {
		i--
	}
	return i
}

// runeStartAfter moves i forward to the start of a UTF-8 character.
func runeStartAfter(b []byte, i int) int {
	for i < len(b) && !utf8.RuneStart(b[i]) {
		i++
	}
	return i
}
