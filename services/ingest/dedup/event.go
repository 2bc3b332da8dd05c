package dedup

import (
	"fmt"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
)

// Field numbers the hand-written part of an event uses, read from the
// generated descriptors so that a renumbering cannot go unnoticed.
var (
	eventSignalField       = (&signalv1.SignalEvent{}).ProtoReflect().Descriptor().Fields().ByName("signal").Number()
	signalLabelsField      = (&signalv1.Signal{}).ProtoReflect().Descriptor().Fields().ByName("labels").Number()
	signalAnnotationsField = (&signalv1.Signal{}).ProtoReflect().Descriptor().Fields().ByName("annotations").Number()
)

// marshalEvent returns the SignalEvent{Signal: sig} encoding that the
// record script completes (see record.lua).
//
// protobuf-go encodes map fields through reflection, allocating for every
// key and value twice (once to size, once to write): most of an event's
// allocations, for a signal's labels and annotations. So sig is marshalled
// without its two maps, and they follow by hand as a second signal field
// holding only the map entries, which a parser merges into the first (a
// message field that appears twice is merged, and map entries add up), as
// the script's own appended fields are. The decoded event is the same.
func marshalEvent(sig *signalv1.Signal) ([]byte, error) {
	labels, annotations := sig.Labels, sig.Annotations
	if len(labels)+len(annotations) == 0 {
		return proto.Marshal(&signalv1.SignalEvent{Signal: sig})
	}
	// As proto.Marshal would, refuse strings that are not UTF-8, which a
	// consumer's parser would reject.
	size := 0
	for _, m := range [2]struct {
		num protowire.Number
		m   map[string]string
	}{{signalLabelsField, labels}, {signalAnnotationsField, annotations}} {
		for k, v := range m.m {
			if !utf8.ValidString(k) || !utf8.ValidString(v) {
				return nil, fmt.Errorf("signal map field %d holds a string that is not valid UTF-8", m.num)
			}
			n := entrySize(k, v)
			size += protowire.SizeTag(m.num) + protowire.SizeVarint(uint64(n)) + n
		}
	}

	sig.Labels, sig.Annotations = nil, nil
	defer func() { sig.Labels, sig.Annotations = labels, annotations }()
	ev := &signalv1.SignalEvent{Signal: sig}
	// One buffer for both parts, sized up front.
	out := make([]byte, 0, proto.Size(ev)+protowire.SizeTag(eventSignalField)+protowire.SizeVarint(uint64(size))+size)
	out, err := proto.MarshalOptions{UseCachedSize: true}.MarshalAppend(out, ev)
	if err != nil {
		return nil, err
	}
	out = protowire.AppendTag(out, eventSignalField, protowire.BytesType)
	out = protowire.AppendVarint(out, uint64(size))
	out = appendEntries(out, signalLabelsField, labels)
	out = appendEntries(out, signalAnnotationsField, annotations)
	return out, nil
}

// entrySize is the size of a map entry message {1: k, 2: v}.
func entrySize(k, v string) int {
	return protowire.SizeTag(1) + protowire.SizeBytes(len(k)) + protowire.SizeTag(2) + protowire.SizeBytes(len(v))
}

func appendEntries(b []byte, num protowire.Number, m map[string]string) []byte {
	for k, v := range m {
		b = protowire.AppendTag(b, num, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(entrySize(k, v)))
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendString(b, k)
		b = protowire.AppendTag(b, 2, protowire.BytesType)
		b = protowire.AppendString(b, v)
	}
	return b
}
