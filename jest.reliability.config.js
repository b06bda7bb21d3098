// `npm run test:reliability`: slow fault-injection suites (database outage through a TCP proxy,
// WeCom API faults, fuzzing, kill -9 under load). Not part of `npm test`; `.ci/run` runs it after.
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.json', isolatedModules: true }];
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': tsJest },
  moduleFileExtensions: ['ts', 'js', 'json'],
  displayName: 'reliability',
  testMatch: ['<rootDir>/test/reliability/**/*.test.ts'],
  globalSetup: '<rootDir>/test/helpers/global-setup.js',
  // Real server processes and real timers: one file at a time keeps the 2-core machine's timings honest.
  maxWorkers: 1,
  testTimeout: 180000,
};
