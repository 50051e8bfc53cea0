package sqlite

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/klauspost/compress/zstd"
)

// The events' documents are stored in blocks: the JSON of up to chunkRows
// events committed together, compressed as one. Events of one batch look
// alike (the same vaults, callers, agents), so a block is a fraction of its
// documents' size, and a commit writes that many fewer pages.
//
// A block is zstd of: the number of documents (uvarint), each one's length
// (uvarint), then the documents one after the other. Its id is the id of
// its first event; its events have consecutive ids.

// codec compresses and decompresses blocks; safe for concurrent use.
type codec struct {
	enc *zstd.Encoder
	dec *zstd.Decoder
}

func newCodec() (*codec, error) {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1),
		zstd.WithLowerEncoderMem(true))
	if err != nil {
		return nil, err
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderLowmem(true))
	if err != nil {
		enc.Close()
		return nil, err
	}
	return &codec{enc: enc, dec: dec}, nil
}

func (c *codec) close() {
	if c != nil {
		c.enc.Close()
		c.dec.Close()
	}
}

// block appends the compressed block of docs (the documents laid end to
// end, ends[i] the end of the i-th) to dst, using raw as scratch.
func (c *codec) block(dst, raw, docs []byte, ends []int) (out, scratch []byte) {
	raw = binary.AppendUvarint(raw[:0], uint64(len(ends)))
	start := 0
	for _, e := range ends {
		raw = binary.AppendUvarint(raw, uint64(e-start))
		start = e
	}
	raw = append(raw, docs[:start]...)
	return c.enc.EncodeAll(raw, dst), raw
}

// errBlock is a block that does not decode.
var errBlock = errors.New("damaged document block")

// docs decompresses a block and returns its documents.
func (c *codec) docs(block []byte) ([][]byte, error) {
	raw, err := c.dec.DecodeAll(block, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errBlock, err)
	}
	n, k := binary.Uvarint(raw)
	if k <= 0 || n > uint64(len(raw)) {
		return nil, errBlock
	}
	raw = raw[k:]
	lens := make([]uint64, n)
	for i := range lens {
		if lens[i], k = binary.Uvarint(raw); k <= 0 {
			return nil, errBlock
		}
		raw = raw[k:]
	}
	out := make([][]byte, n)
	for i, l := range lens {
		if l > uint64(len(raw)) {
			return nil, errBlock
		}
		out[i], raw = raw[:l:l], raw[l:]
	}
	return out, nil
}
