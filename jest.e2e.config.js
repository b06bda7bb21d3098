// Browser tests: the real server (sandbox mode, temp SQLite) + Debian's Chromium via playwright-core.
// `npm run test:e2e` builds first; the tests serve dist/sidebar.
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  moduleFileExtensions: ['ts', 'js', 'json'],
  testMatch: ['<rootDir>/test/e2e/**/*.e2e.ts'],
  testTimeout: 60000,
  maxWorkers: 1,
};
