// Removes everything a test created in OpenSearch under its index prefix: indices first, then every index
// template named `<prefix>-*`, then the component templates they composed. Templates are listed from the node
// rather than named here, so a template added to setupOpenSearch (as `incidents` was) is cleaned up too.
import type { Client } from '@opensearch-project/opensearch';

export async function dropPrefix(client: Client, prefix: string): Promise<void> {
  await client.indices.delete({ index: `${prefix}-*`, expand_wildcards: 'all' }, { ignore: [404] });
  const index = await client.indices.getIndexTemplate({ name: `${prefix}-*` }, { ignore: [404] });
  for (const t of (index.body as { index_templates?: { name: string }[] }).index_templates ?? []) {
    await client.indices.deleteIndexTemplate({ name: t.name }, { ignore: [404] });
  }
  const component = await client.cluster.getComponentTemplate({ name: `${prefix}-*` }, { ignore: [404] });
  for (const t of (component.body as { component_templates?: { name: string }[] }).component_templates ?? []) {
    await client.cluster.deleteComponentTemplate({ name: t.name }, { ignore: [404] });
  }
}
