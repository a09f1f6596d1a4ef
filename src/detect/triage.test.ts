// Triage text extraction (SOC review M4): the analyst's part of a rule's `Triage:` paragraph, read once at load.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { alertFromMatch } from './alert.ts';
import { loadRules } from './sigma/ruleset.ts';
import { analystTriage, splitDescription, triageOf } from './triage.ts';

const ROOT = join(import.meta.dirname, '../..');

describe('triage extraction', () => {
  it('splits a description at its Triage: paragraph, folding whitespace', () => {
    const d = 'A pod was created with a privileged container.\nEscaping to the node is trivial.\nTriage: which workload, which image,\n  and who created it.\n';
    expect(splitDescription(d)).toEqual({ description: 'A pod was created with a privileged container. Escaping to the node is trivial.', triage: 'which workload, which image, and who created it.' });
    expect(triageOf(d)).toBe('which workload, which image, and who created it.');
  });

  it('gives no triage for a description without a Triage: paragraph, or no description', () => {
    expect(splitDescription('An EBS volume was attached.\nContext for other rules.')).toEqual({ description: 'An EBS volume was attached. Context for other rules.' });
    expect(triageOf('An EBS volume was attached.')).toBeUndefined();
    expect(triageOf(undefined)).toBeUndefined();
  });

  it('cuts tuning notes aimed at the rule maintainer: placeholder clauses, asides, "tune them out" sentences', () => {
    // A clause after ';' naming a placeholder goes; the analyst's first clause stays and the sentence ends with '.'.
    expect(analystTriage('EKS add-on images are trusted; add your own with the %seam_privileged_images% placeholder.')).toBe('EKS add-on images are trusted.');
    // A parenthesised aside naming a placeholder goes, the sentence around it stays.
    expect(analystTriage('Upstream node components are trusted (extend with %seam_host_namespace_images%). Check the image.')).toBe('Upstream node components are trusted. Check the image.');
    expect(analystTriage('EKS add-on images in kube-system (and %seam_privileged_images%) are trusted.')).toBe('EKS add-on images in kube-system are trusted.');
    // A whole sentence for the maintainer goes.
    expect(analystTriage('List the calls. Known inventory tools: tune them out in ct_account_inventory_api_call. Otherwise treat the credentials as compromised.')).toBe(
      'List the calls. Otherwise treat the credentials as compromised.',
    );
    expect(analystTriage('who created it and what was deployed into it next; add legitimate names to the placeholder.')).toBe('who created it and what was deployed into it next.');
    expect(analystTriage('Cordon and delete it if unexplained. Add expected registrars with %seam_node_registrars%.')).toBe('Cordon and delete it if unexplained.');
    // Nothing left: no triage.
    expect(analystTriage('Add your own with %seam_x%.')).toBeUndefined();
    // Text that only mentions adding or tuning in passing is the analyst's.
    expect(analystTriage('Did the user add a new device? Revert the change.')).toBe('Did the user add a new device? Revert the change.');
  });

  it('is read once at rule load: a Sigma alert carries its rule\'s triage, without the tuning note', async () => {
    const { ruleset } = await loadRules([join(ROOT, 'detections/kubernetes/k8s_privileged_pod_created.yml')]);
    const rule = ruleset.rules[0]!;
    expect(rule.triage).toMatch(/^which pod and image, and who is behind it\./);
    expect(rule.triage).toContain('are trusted.');
    expect(rule.triage).not.toMatch(/%seam_|placeholder|add your own/);
    expect(rule.description).toContain('%seam_privileged_images%');
    const event = { '@timestamp': '2026-12-01T10:00:00Z', seam: { id: 'e1', source: 'k8s_audit', principal: { id: 'alice', type: 'k8s_user' } } };
    const alert = alertFromMatch({ rule, event: event as never });
    expect(alert.triage).toBe(rule.triage);
  });
});
