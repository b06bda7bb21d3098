import fp from 'fastify-plugin';
import type { TemplateProvider } from '../playbook';
import { sidebarRoutes } from './routes';
import { sidebarStatic } from './static';

export interface SidebarPluginOptions {
  /** Replace the template source (the later template library plugs in here). */
  templates?: TemplateProvider;
  /** Directory of the built Vue app; default dist/sidebar. null = not built: /sidebar/ answers 503. */
  staticRoot?: string | null;
}

/** The chat-toolbar sidebar: /api/sidebar/* and the built Vue app at /sidebar/. */
export const sidebarPlugin = fp<SidebarPluginOptions>(
  async (app, opts) => {
    await app.register(sidebarRoutes, { prefix: '/api/sidebar', templates: opts.templates });
    await sidebarStatic(app, { root: opts.staticRoot });
  },
  { name: 'sidebar', fastify: '5.x' },
);
