import { createApp } from 'vue';
import App from './App.vue';
import { createBrowserEnv } from './browserEnv';
import { useSidebar } from './composables/useSidebar';
import { createHttpClient } from './services/http';
import { createSidebarApi } from './services/sidebarApi';
import './styles.css';
import { createWecomAdapter } from './wecom';

const http = createHttpClient({ fetch: (url, init) => window.fetch(url, init) });
const sidebar = useSidebar({
  api: createSidebarApi(http),
  env: createBrowserEnv(),
  createAdapter: createWecomAdapter,
});

createApp(App, { sidebar }).mount('#app');
void sidebar.start();
