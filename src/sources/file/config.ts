import { z } from 'zod';

/** Configuration of the file source: replay of exported logs, S3 exports and fixtures. */
export const FileSourceConfig = z
  .strictObject({
    type: z.literal('file'),
    paths: z.array(z.string().min(1)).min(1).describe('Files or folders to read; folders are walked recursively, and the records of several files are merged by event time across files.'),
    maxRecordBytes: z
      .number()
      .int()
      .positive()
      .default(1024 * 1024)
      .describe('Records larger than this are dead-lettered as oversized (with their byte range) instead of parsed; a batch document on one JSONL line counts as one record here.'),
    readChunkBytes: z.number().int().positive().default(256 * 1024).describe('Read buffer size per file.'),
    cluster: z.string().optional().describe('EKS cluster name to attribute records to when the record does not say.'),
    account: z
      .string()
      .regex(/^\d{12}$/)
      .optional()
      .describe("AWS account id to attribute records to when the record does not say: set it with `cluster` for an audit log export, so on Kafka the cluster's signals share its account's key."),
  })
  .describe('Reads JSONL, JSON arrays, CloudTrail S3 exports ({"Records": [...]}), CloudTrail LookupEvents output (aws cloudtrail lookup-events, handed on oldest first), CloudWatch Logs exports and filter-log-events output, CloudTrail records as EventBridge delivers them (detail-type "AWS API Call via CloudTrail" and the other CloudTrail detail-types), Kubernetes audit EventList documents, CloudWatch Logs subscription payloads (Firehose S3 objects included; their records take the payload\'s account and EKS cluster where none is configured, ADR 0039), Amazon Security Lake\'s OCSF records of CloudTrail events (exported to JSON, read as the CloudTrail record, ADR 0041), records exported from a SIEM with the original kept (Splunk _raw and search results JSON, Sumo Logic search messages (map._raw), Elastic event.original, Elasticsearch/OpenSearch hits\' _source), gzipped or not. A CloudTrail file or an audit EventList on one line of a JSONL file is read as its records (origin FILE:LINE#i, ADR 0038).');
export type FileSourceConfig = z.infer<typeof FileSourceConfig>;
