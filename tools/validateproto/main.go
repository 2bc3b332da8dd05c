// Command validateproto writes buf/validate/validate.proto into a folder so
// that buf can compile Alexus's protovalidate annotations without reaching
// the Buf Schema Registry.
//
// The descriptor ships inside the Go module that buf.build/go/protovalidate
// already depends on, so the file printed here is exactly the version the
// runtime validator understands.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	validatepb "buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"github.com/jhump/protoreflect/desc"
	"github.com/jhump/protoreflect/desc/protoprint"
)

func main() {
	out := flag.String("out", "third_party/proto", "folder to write buf/validate/validate.proto into")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "validateproto:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	fd, err := desc.WrapFile(validatepb.File_buf_validate_validate_proto)
	if err != nil {
		return fmt.Errorf("wrap validate.proto descriptor: %w", err)
	}
	path := filepath.Join(out, fd.GetName())
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	defer f.Close()
	p := protoprint.Printer{}
	if err := p.PrintProtoFile(fd, f); err != nil {
		return fmt.Errorf("print %s: %w", path, err)
	}
	return f.Close()
}
