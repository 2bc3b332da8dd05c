package knowledge

import (
	"bytes"
	"context"
	"errors"
	"io"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	knowledgev1 "github.com/alexus-platform/alexus/gen/alexus/knowledge/v1"
	"github.com/alexus-platform/alexus/services/orchestrator/knowledge/cmdb"
)

// MaxImportBytes caps one ImportCMDB file: a 50,000-CI ServiceNow export
// is about 40 MB of JSON.
const MaxImportBytes = 128 << 20

// maxReportedRows bounds the row errors an import answers with.
const maxReportedRows = 1000

// maxConcurrentImports bounds the imports one replica holds in memory at
// once (each up to MaxImportBytes); one more is RESOURCE_EXHAUSTED.
const maxConcurrentImports = 2

// formats maps the API's formats onto the parser's.
var formats = map[knowledgev1.CMDBFormat]cmdb.Format{
	knowledgev1.CMDBFormat_CMDB_FORMAT_NATIVE_JSON:          cmdb.NativeJSON,
	knowledgev1.CMDBFormat_CMDB_FORMAT_NATIVE_CIS_CSV:       cmdb.NativeCIsCSV,
	knowledgev1.CMDBFormat_CMDB_FORMAT_NATIVE_RELATIONS_CSV: cmdb.NativeRelationsCSV,
	knowledgev1.CMDBFormat_CMDB_FORMAT_SERVICENOW_CI_JSON:   cmdb.ServiceNowCIJSON,
	knowledgev1.CMDBFormat_CMDB_FORMAT_SERVICENOW_CI_CSV:    cmdb.ServiceNowCICSV,
	knowledgev1.CMDBFormat_CMDB_FORMAT_SERVICENOW_REL_JSON:  cmdb.ServiceNowRelJSON,
	knowledgev1.CMDBFormat_CMDB_FORMAT_SERVICENOW_REL_CSV:   cmdb.ServiceNowRelCSV,
}

// ImportCMDB implements KnowledgeService. The file is gathered whole (up
// to MaxImportBytes) before anything is parsed, so a stream that breaks
// off imports nothing; the CIs are embedded like any other node before
// they are written.
func (h *Handler) ImportCMDB(stream grpc.ClientStreamingServer[knowledgev1.ImportCMDBRequest, knowledgev1.ImportCMDBResponse]) error {
	ctx := stream.Context()
	select {
	case h.imports <- struct{}{}:
		defer func() { <-h.imports }()
	default:
		return status.Error(codes.ResourceExhausted, "other CMDB imports are running on this replica; retry shortly")
	}
	var (
		data   bytes.Buffer
		format knowledgev1.CMDBFormat
	)
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if f := req.GetFormat(); f != knowledgev1.CMDBFormat_CMDB_FORMAT_UNSPECIFIED {
			if format != knowledgev1.CMDBFormat_CMDB_FORMAT_UNSPECIFIED && f != format {
				return status.Error(codes.InvalidArgument, "the format changed in the middle of the file")
			}
			format = f
		}
		if data.Len()+len(req.GetData()) > MaxImportBytes {
			return status.Errorf(codes.ResourceExhausted, "the file is larger than %d bytes; split it", MaxImportBytes)
		}
		data.Write(req.GetData())
	}
	parseFormat, ok := formats[format]
	if !ok {
		return status.Error(codes.InvalidArgument, "the first message must name the file's format")
	}
	batch, rowErrs, err := cmdb.ParseWith(parseFormat, &data, cmdb.ParseOptions{MaxBytes: MaxImportBytes})
	if err != nil {
		if errors.Is(err, cmdb.ErrInput) {
			return status.Error(codes.InvalidArgument, err.Error())
		}
		return h.statusOf(ctx, "parse cmdb import", err)
	}
	if err := h.embedNodes(ctx, batch); err != nil {
		return h.statusOf(ctx, "embed cmdb import", err)
	}
	rep, err := cmdb.Import(ctx, h.graph, batch, cmdb.Options{})
	if err != nil {
		return h.statusOf(ctx, "cmdb import", err)
	}
	rejected := append(rowErrs, rep.Rejected...)
	out := &knowledgev1.ImportCMDBResponse{
		NodesUpserted: int32(rep.NodesUpserted), TeamsCreated: int32(rep.TeamsCreated), EdgesUpserted: int32(rep.EdgesUpserted),
		RejectedCount: int32(len(rejected)),
	}
	for _, r := range rejected[:min(len(rejected), maxReportedRows)] {
		out.Rejected = append(out.Rejected, &knowledgev1.ImportRowError{Source: r.Source, Row: int32(r.Row), Id: r.ID, Error: r.Err})
	}
	return stream.SendAndClose(out)
}

// embedBatch bounds the texts sent to the embedder at once.
const embedBatch = 1000

// embedNodes sets the embedding of every node and team of b, with the
// tenant's embedder.
func (h *Handler) embedNodes(ctx context.Context, b *cmdb.Batch) error {
	e, err := h.embedderFor(ctx)
	if err != nil {
		return err
	}
	if err := embedAll(ctx, e, b.Nodes); err != nil {
		return err
	}
	return embedAll(ctx, e, b.Teams)
}
