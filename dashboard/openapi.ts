// The OpenAPI 3.1 document, built from the schemas the routes were registered with (collected by
// an onRoute hook), so it cannot drift from what the API validates. OpenAPI 3.1 uses JSON Schema
// as is, so the route schemas go in unchanged.
import type { RouteOptions } from 'fastify';

interface CollectedRoute {
  method: string;
  url: string;
  schema: Record<string, unknown>;
  open: boolean;
}

export class OpenApiCollector {
  private readonly routes: CollectedRoute[] = [];
  private doc: object | null = null;

  /** For app.addHook('onRoute', …). `open` routes need no token. */
  add(route: RouteOptions, open: boolean): void {
    if ((route.schema as { hide?: boolean } | undefined)?.hide) return;
    for (const method of [route.method].flat()) {
      if (method === 'HEAD' || !route.url.startsWith('/')) continue;
      this.routes.push({ method: method.toLowerCase(), url: route.url, schema: (route.schema ?? {}) as Record<string, unknown>, open });
    }
  }

  document(info: { title: string; version: string; openReads: boolean }): object {
    this.doc ??= this.build(info);
    return this.doc;
  }

  private build(info: { title: string; version: string; openReads: boolean }): object {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const r of this.routes) {
      const path = r.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      const s = r.schema;
      const parameters = [
        ...paramsOf(s.params, 'path'),
        ...paramsOf(s.querystring, 'query'),
      ];
      const responses: Record<string, unknown> = {};
      for (const [status, schema] of Object.entries((s.response ?? {}) as Record<string, unknown>)) {
        responses[status] = { description: status.startsWith('2') ? 'OK' : 'Error: {code, message}', content: { 'application/json': { schema } } };
      }
      if (Object.keys(responses).length === 0) responses['200'] = { description: 'OK' };
      const needsToken = !r.open && !(info.openReads && r.method === 'get');
      paths[path] ??= {};
      paths[path]![r.method] = {
        summary: s.summary,
        ...(s.description ? { description: s.description } : {}),
        ...(s.tags ? { tags: s.tags } : {}),
        ...(parameters.length ? { parameters } : {}),
        ...(s.body ? { requestBody: { required: true, content: { 'application/json': { schema: s.body } } } } : {}),
        responses,
        security: needsToken ? [{ bearer: [] }] : [],
      };
    }
    return {
      openapi: '3.1.0',
      info: { title: info.title, version: info.version },
      paths,
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    };
  }
}

function paramsOf(schema: unknown, where: 'path' | 'query'): object[] {
  if (!schema || typeof schema !== 'object') return [];
  const o = schema as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(o.properties ?? {}).map(([name, s]) => ({
    name, in: where, required: where === 'path' || (o.required ?? []).includes(name), schema: s,
  }));
}
