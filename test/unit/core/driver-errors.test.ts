import { driverErrorCode, isTransientLockError, isUniqueViolation } from '../../../server/db/data-source';

describe('driver error guards', () => {
  const wrapped = (code: string) => Object.assign(new Error('query failed'), { driverError: { code } });
  const bare = (code: string) => Object.assign(new Error('query failed'), { code });

  it('reads the code from a TypeORM-wrapped error and from a bare driver error', () => {
    expect(driverErrorCode(wrapped('ER_DUP_ENTRY'))).toBe('ER_DUP_ENTRY');
    expect(driverErrorCode(bare('SQLITE_BUSY'))).toBe('SQLITE_BUSY');
    expect(driverErrorCode(null)).toBeUndefined();
    expect(driverErrorCode('ER_DUP_ENTRY')).toBeUndefined();
    expect(driverErrorCode({ code: 1062 })).toBeUndefined();
  });

  it('tells unique violations on both drivers', () => {
    for (const c of ['SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_CONSTRAINT_PRIMARYKEY', 'ER_DUP_ENTRY']) {
      expect(isUniqueViolation(wrapped(c))).toBe(true);
      expect(isUniqueViolation(bare(c))).toBe(true);
    }
    expect(isUniqueViolation(bare('SQLITE_CONSTRAINT_NOTNULL'))).toBe(false);
  });

  it('tells transient InnoDB lock errors from the rest', () => {
    expect(isTransientLockError(wrapped('ER_LOCK_DEADLOCK'))).toBe(true);
    expect(isTransientLockError(bare('ER_LOCK_WAIT_TIMEOUT'))).toBe(true);
    expect(isTransientLockError(bare('ER_DUP_ENTRY'))).toBe(false);
    expect(isTransientLockError(undefined)).toBe(false);
  });
});
