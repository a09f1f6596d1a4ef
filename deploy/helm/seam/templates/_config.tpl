{{/*
seam.yml of every component: the values' `config`, with the metrics listener on the chart's port. A `collect`
section is refused there: the collectors and the ingest endpoint get their own file (below).
*/}}
{{- define "seam.baseConfig" -}}
{{- $cfg := deepCopy (default (dict) .Values.config) -}}
{{- if hasKey $cfg "collect" }}{{ fail "config.collect: leave it out; the collectors are collect.sources (the chart writes collect.yml and ingest.yml)" }}{{ end -}}
{{- /* correlate.sourceDelayMs: the default `seam run` takes from a CloudTrail collector in its own seam.yml
  (src/pipeline/expected-delay.ts, ADR 0009 5c). The roles' copy has no `collect`, so the chart writes it when
  collect.sources read CloudTrail and config.correlate does not set it (`{}` there: none). */ -}}
{{- $correlate := deepCopy (default (dict) $cfg.correlate) -}}
{{- if and (not (hasKey $correlate "sourceDelayMs")) (eq (include "seam.collectsCloudTrail" .) "true") -}}
{{- $_ := set $correlate "sourceDelayMs" (dict "cloudtrail" 900000) -}}
{{- $_ := set $cfg "correlate" $correlate -}}
{{- end -}}
{{- $_ := set $cfg "metrics" (dict "addr" (printf ":%d" (int .Values.metrics.port))) -}}
{{- with .Values.awsIpRanges }}{{ if .configMap -}}
{{- $native := deepCopy (default (dict) $cfg.native) -}}
{{- if hasKey $native "awsIpRangesFile" }}{{ fail "config.native.awsIpRangesFile: leave it out when awsIpRanges.configMap is set (the chart names the mounted file)" }}{{ end -}}
{{- $_ := set $native "awsIpRangesFile" (printf "/etc/seam/aws-ip-ranges/%s" .key) -}}
{{- $_ := set $cfg "native" $native -}}
{{- end }}{{ end -}}
{{- with .Values.identitySeeds -}}
{{- if and .configMap .secret }}{{ fail "identitySeeds: give configMap or secret, not both" }}{{ end -}}
{{- if and (or .configMap .secret) (not .files) }}{{ fail "identitySeeds.files is empty: list the keys of the seed ConfigMap or Secret, each with its cluster" }}{{ end -}}
{{- if and .files (not (or .configMap .secret)) }}{{ fail "identitySeeds.files needs identitySeeds.configMap or identitySeeds.secret (where the files are)" }}{{ end -}}
{{- if .files -}}
{{- $identity := deepCopy (default (dict) $cfg.identity) -}}
{{- $seeds := default (list) $identity.seeds -}}
{{- range $i, $f := .files -}}
{{- if not $f.key }}{{ fail (printf "identitySeeds.files[%d].key is empty" $i) }}{{ end -}}
{{- $s := dict "path" (printf "/etc/seam/identity-seeds/%s" $f.key) -}}
{{- range $k := list "cluster" "account" "kind" "at" }}{{ if hasKey $f $k }}{{ $_ := set $s $k (get $f $k) }}{{ end }}{{ end -}}
{{- $seeds = append $seeds $s -}}
{{- end -}}
{{- $_ := set $identity "seeds" $seeds -}}
{{- $_ := set $cfg "identity" $identity -}}
{{- end -}}
{{- end -}}
{{- toYaml $cfg -}}
{{- end -}}

{{/*
"true" when the chart's collectors read a CloudTrail log group, as resolveGroup (src/sources/cloudwatch-logs/parse.ts)
tells one: `source: cloudtrail`, or no source, a name that is not an EKS cluster's group and says cloudtrail.
*/}}
{{- define "seam.collectsCloudTrail" -}}
{{- $found := false -}}
{{- if .Values.collect.enabled -}}
{{- range $name, $src := (default (dict) .Values.collect.sources) -}}
{{- if eq (toString $src.type) "cloudwatch-logs" -}}
{{- range $g := (default (list) $src.logGroups) -}}
{{- $name := toString $g.logGroupName -}}
{{- if $g.source -}}
{{- if eq (toString $g.source) "cloudtrail" }}{{ $found = true }}{{ end -}}
{{- else if and (not (regexMatch "^/aws/eks/[^/]+/cluster$" $name)) (regexMatch "(?i)cloudtrail" $name) -}}
{{- $found = true -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- $found -}}
{{- end -}}

{{/* collect.yml: seam.yml plus the collectors, each with the ownership the replica count and `collect.ownership` call for. */}}
{{- define "seam.collectConfig" -}}
{{- $root := . -}}
{{- $c := .Values.collect -}}
{{- $full := include "seam.fullname" . -}}
{{- $n := int $c.replicas -}}
{{- $ids := list -}}
{{- range $i := until $n }}{{ $ids = append $ids (printf "%s-collect-%d" $full $i) }}{{ end -}}
{{- if not $c.sources }}{{ fail "collect.sources is empty: configure at least one collector, or set collect.enabled=false" }}{{ end -}}
{{- $sources := dict -}}
{{- range $name, $src := $c.sources -}}
{{- $s := deepCopy $src -}}
{{- if hasKey $s "ownership" }}{{ fail (printf "collect.sources.%s.ownership: leave it out, the chart sets it from collect.ownership and collect.replicas" $name) }}{{ end -}}
{{- if and (gt $n 1) (has $s.type (list "cloudwatch-logs" "guardduty")) -}}
{{- if and (eq $c.ownership "lease") (eq $s.type "cloudwatch-logs") -}}
{{- $_ := set $s "ownership" (dict "replicaId" (printf "%s-collect-0" $full) "lease" (dict "ttlMs" (int $c.lease.ttlMs) "heartbeatMs" (int $c.lease.heartbeatMs))) -}}
{{- else if has $c.ownership (list "static" "lease") -}}
{{- $_ := set $s "ownership" (dict "replicaId" (printf "%s-collect-0" $full) "replicas" $ids) -}}
{{- else -}}
{{- fail (printf "collect.ownership must be static or lease (got %v)" $c.ownership) -}}
{{- end -}}
{{- end -}}
{{- if and (eq $s.type "sidecar") -}}
{{- fail (printf "collect.sources.%s: the sidecar endpoint is the ingest component (ingest.*), not a collector" $name) -}}
{{- end -}}
{{- if eq $s.type "cloudwatch-logs" -}}
{{- /* The check `seam config check` makes (src/sources/cloudwatch-logs/config.ts): one account's group listed twice would crash-loop the collect pods. */ -}}
{{- $seen := dict -}}
{{- range $i, $g := ($s.logGroups | default list) -}}
{{- $acct := "" -}}
{{- with $g.roleArn }}{{ $acct = regexReplaceAll "^arn:aws[a-z-]*:iam::([0-9]{12}):role/.*$" . "${1}" }}{{ end -}}
{{- $k := printf "%s|%s|%s" $acct $g.logGroupName ($g.logStreamNamePrefix | default "") -}}
{{- if hasKey $seen $k }}{{ fail (printf "collect.sources.%s.logGroups[%d]: log group %s is listed twice with the same stream prefix in %s (a workload account's group needs its roleArn: deploy/iam/README.md, Security account deployment)" $name $i $g.logGroupName (ternary "the collector's own account" (printf "account %s" $acct) (eq $acct ""))) }}{{ end -}}
{{- $_ := set $seen $k true -}}
{{- end -}}
{{- end -}}
{{- $_ := set $sources $name $s -}}
{{- end -}}
{{- $collect := dict "sources" $sources -}}
{{- with $c.checkpoint }}{{ $_ := set $collect "checkpoint" . }}{{ end -}}
{{- if $c.rawTopicPartitions }}{{ $_ := set $collect "rawTopicPartitions" (int $c.rawTopicPartitions) }}{{ end -}}
{{- $out := fromYaml (include "seam.baseConfig" .) -}}
{{- $_ := set $out "collect" $collect -}}
{{ toYaml $out }}
{{- end -}}

{{/* ingest.yml: seam.yml plus one sidecar source on the ingest port, HTTPS with the TLS Secret's certificate. */}}
{{- define "seam.ingestConfig" -}}
{{- $i := .Values.ingest -}}
{{- $tls := dict "certFile" "/etc/seam/ingest-tls/tls.crt" "keyFile" "/etc/seam/ingest-tls/tls.key" -}}
{{- if $i.tls.requireClientCert -}}
{{- $_ := set $tls "caFile" "/etc/seam/ingest-tls/ca.crt" -}}
{{- $_ := set $tls "requireClientCert" true -}}
{{- end -}}
{{- $src := merge (dict "type" "sidecar" "name" "sidecar" "host" "0.0.0.0" "port" (int $i.port) "path" $i.path "tls" $tls "tokens" (default (list) $i.tokens)) (default (dict) $i.extra) -}}
{{- $out := fromYaml (include "seam.baseConfig" .) -}}
{{- $_ := set $out "collect" (dict "sources" (dict "sidecar" $src)) -}}
{{ toYaml $out }}
{{- end -}}

{{/* delivery.yml: the deliver role's `roles.deliver.delivery`, refused when empty (the role would exit at start). */}}
{{- define "seam.deliveryConfig" -}}
{{- $d := .Values.roles.deliver.delivery -}}
{{- if not $d }}{{ fail "roles.deliver.delivery is empty: give the delivery config (outputs and routes, docs/alert-delivery.md), or set roles.deliver.enabled=false" }}{{ end -}}
{{- if not $d.outputs }}{{ fail "roles.deliver.delivery.outputs is empty: name at least one output (webhook, slack, sns, pagerduty)" }}{{ end -}}
{{- if not $d.routes }}{{ fail "roles.deliver.delivery.routes is empty: at least one route must send alerts to an output" }}{{ end -}}
{{ toYaml $d }}
{{- end -}}
