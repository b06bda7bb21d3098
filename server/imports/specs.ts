import { canonicalCustomerId } from '../customers/ids';
import { hashPhone, isPlausiblePhone } from '../customers/phone';
import { maskName } from './mask';

/**
 * What each import kind accepts: CSV columns, per-row validation, and the database columns a
 * row becomes. Rows come out in database form (booleans as 1/0, tags as JSON text) so the same
 * values are compared with existing rows and bound to the upsert on SQLite and MySQL alike.
 */

export type ImportKind = 'branches' | 'managers' | 'customers' | 'holdings';
export type DbValue = string | number | null;
export type DbRow = Record<string, DbValue>;

export interface RowIssue {
  line: number;
  key?: string;
  column?: string;
  severity: 'error' | 'warning';
  reason: string;
}

/** A reference to another table, checked against the database (and the file itself, for branch parents). */
export interface RefCheck {
  csv: string;
  target: 'branches' | 'managers' | 'customers';
  severity: 'error' | 'warning';
  /** The referenced key may also be defined by another row of the same file. */
  sameFile: boolean;
  reason: (value: string) => string;
}

export interface ImportSpec {
  kind: ImportKind;
  table: string;
  keyCsv: string;
  keyColumn: string;
  /** A key built from several columns (holdings); default: the keyCsv field as it is. */
  keyOf?: (get: (csv: string) => string | undefined) => string | undefined;
  required: string[];
  optional: string[];
  refs: RefCheck[];
  /** The table also has created_at, written on insert only. */
  hasCreatedAt: boolean;
  /** Database columns written for a file with these CSV columns (key first, updated_at excluded). */
  columnsFor(header: Set<string>): string[];
  /** Validates one record; returns the row in database form, or null when it has errors. */
  parse(
    get: (csv: string) => string | undefined,
    issue: (column: string, reason: string, warn?: boolean) => void,
    env: ParseEnv,
  ): DbRow | null;
}

export interface ParseEnv {
  phoneSalt: string;
  /** false in the validation pass: only the written rows need the (costly) hash. */
  hashPhones?: boolean;
}

const ID = /^[A-Za-z0-9_.@-]+$/;
const CODE = /^[A-Za-z0-9_-]+$/;
const SEGMENT = /^[\p{L}\p{N}_-]+$/u;

const empty = (v: string | undefined) => v === undefined || v === '';

function text(
  v: string | undefined,
  column: string,
  issue: (c: string, r: string) => void,
  opts: { required?: boolean; max: number; pattern?: RegExp; what?: string },
): string | null | undefined {
  if (empty(v)) {
    if (opts.required) {
      issue(column, `${column} is required`);
      return undefined;
    }
    return null;
  }
  const s = v as string;
  if ([...s].length > opts.max) {
    issue(column, `${column} is longer than ${opts.max} characters`);
    return undefined;
  }
  if (opts.pattern && !opts.pattern.test(s)) {
    issue(column, `${column} "${s}" has characters not allowed in ${opts.what ?? 'an identifier'}`);
    return undefined;
  }
  return s;
}

/** Mainland China's bounding box, loosely: a point outside is almost always swapped or mistyped. */
const CHINA = { latMin: 3, latMax: 54, lngMin: 73, lngMax: 136 };

function coordinates(
  rawLat: string | undefined,
  rawLng: string | undefined,
  issue: (c: string, r: string, warn?: boolean) => void,
  required: boolean,
): { lat: number | null; lng: number | null } | undefined {
  if (empty(rawLat) && empty(rawLng)) {
    if (required) {
      issue('lat', 'lat and lng are required');
      return undefined;
    }
    return { lat: null, lng: null };
  }
  if (empty(rawLat) || empty(rawLng)) {
    issue(empty(rawLat) ? 'lat' : 'lng', 'bad coordinates: give both lat and lng, or neither');
    return undefined;
  }
  const lat = Number(rawLat);
  const lng = Number(rawLng);
  if (!/^-?\d+(\.\d+)?$/.test(rawLat as string) || !Number.isFinite(lat)) {
    issue('lat', `bad coordinates: lat "${rawLat}" is not a decimal number`);
    return undefined;
  }
  if (!/^-?\d+(\.\d+)?$/.test(rawLng as string) || !Number.isFinite(lng)) {
    issue('lng', `bad coordinates: lng "${rawLng}" is not a decimal number`);
    return undefined;
  }
  if (lat < -90 || lat > 90) {
    const hint = lng >= -90 && lng <= 90 ? ' (lat and lng look swapped)' : '';
    issue('lat', `bad coordinates: lat ${lat} is outside -90..90${hint}`);
    return undefined;
  }
  if (lng < -180 || lng > 180) {
    issue('lng', `bad coordinates: lng ${lng} is outside -180..180`);
    return undefined;
  }
  if (lat === 0 && lng === 0) {
    issue('lat', 'bad coordinates: 0,0 is a placeholder; leave lat and lng empty when unknown');
    return undefined;
  }
  if (lat < CHINA.latMin || lat > CHINA.latMax || lng < CHINA.lngMin || lng > CHINA.lngMax) {
    const swapped =
      lng >= CHINA.latMin && lng <= CHINA.latMax && lat >= CHINA.lngMin && lat <= CHINA.lngMax ? ' (swapped?)' : '';
    issue('lat', `coordinates ${lat},${lng} are outside mainland China${swapped}`, true);
  }
  return { lat, lng };
}

const BOOL: Record<string, number> = { true: 1, false: 0, '1': 1, '0': 0, yes: 1, no: 0, 是: 1, 否: 0, y: 1, n: 0 };

function bool(v: string | undefined, column: string, issue: (c: string, r: string) => void): number | undefined {
  const b = BOOL[(v ?? '').toLowerCase()];
  if (b === undefined) issue(column, `${column} "${v}" must be true or false`);
  return b;
}

const STATUS: Record<string, string> = {
  active: 'active',
  leave: 'leave',
  resigned: 'resigned',
  在职: 'active',
  休假: 'leave',
  离职: 'resigned',
};
const ROLES = new Set(['manager', 'branch_lead', 'operator']);

/** Accumulates the DB row; any issue that is not a warning makes the row invalid. */
function collector(issue: (c: string, r: string, warn?: boolean) => void) {
  let bad = false;
  const report = (c: string, r: string, warn = false) => {
    if (!warn) bad = true;
    issue(c, r, warn);
  };
  return { report, bad: () => bad };
}

export const branchesSpec: ImportSpec = {
  kind: 'branches',
  table: 'branches',
  keyCsv: 'code',
  keyColumn: 'code',
  required: ['code', 'name', 'parent_code', 'lat', 'lng'],
  optional: ['region_code', 'active'],
  hasCreatedAt: false,
  refs: [
    {
      csv: 'parent_code',
      target: 'branches',
      severity: 'error',
      sameFile: true,
      reason: (v) => `unknown branch: parent_code "${v}" is neither in the file nor in the database`,
    },
  ],
  columnsFor: (h) => [
    'code',
    'name',
    'parent_code',
    'lat',
    'lng',
    ...(h.has('region_code') ? ['region_code'] : []),
    ...(h.has('active') ? ['active'] : []),
  ],
  parse(get, issue) {
    const c = collector(issue);
    const code = text(get('code'), 'code', c.report, { required: true, max: 32, pattern: CODE, what: 'a branch code' });
    const name = text(get('name'), 'name', c.report, { required: true, max: 128 });
    const parent = text(get('parent_code'), 'parent_code', c.report, { max: 32, pattern: CODE, what: 'a branch code' });
    if (code && parent === code) c.report('parent_code', 'parent_code is the branch itself');
    const ll = coordinates(get('lat'), get('lng'), c.report, true);
    const region = text(get('region_code'), 'region_code', c.report, { max: 32, pattern: CODE, what: 'a region code' });
    const active = empty(get('active')) ? 1 : bool(get('active'), 'active', c.report);
    if (c.bad() || !ll) return null;
    const row: DbRow = { code: code!, name: name!, parent_code: parent ?? null, lat: ll.lat, lng: ll.lng };
    if (get('region_code') !== undefined) row.region_code = region ?? null;
    if (get('active') !== undefined) row.active = active ?? 1;
    return row;
  },
};

export const managersSpec: ImportSpec = {
  kind: 'managers',
  table: 'managers',
  keyCsv: 'userid',
  keyColumn: 'userid',
  required: ['userid', 'name', 'branch_code', 'capacity', 'status'],
  optional: ['role', 'skills', 'accepting'],
  hasCreatedAt: false,
  refs: [
    {
      csv: 'branch_code',
      target: 'branches',
      severity: 'error',
      sameFile: false,
      reason: (v) => `unknown branch: branch_code "${v}" is not in the database (import branches first)`,
    },
  ],
  columnsFor: (h) => [
    'userid',
    'name',
    'branch_code',
    'capacity',
    'status',
    ...['role', 'skills', 'accepting'].filter((c) => h.has(c)),
  ],
  parse(get, issue) {
    const c = collector(issue);
    const userid = text(get('userid'), 'userid', c.report, {
      required: true,
      max: 64,
      pattern: ID,
      what: 'a WeCom userid',
    });
    const name = text(get('name'), 'name', c.report, { required: true, max: 64 });
    const branch = text(get('branch_code'), 'branch_code', c.report, { max: 32, pattern: CODE, what: 'a branch code' });
    if (branch === null)
      c.report('branch_code', 'no branch_code: this manager gets customers only as owner or fallback', true);
    const rawCap = get('capacity') ?? '';
    const capacity = Number(rawCap);
    if (!/^\d+$/.test(rawCap) || capacity > 100_000) {
      c.report('capacity', `bad capacity "${rawCap}": a whole number 0..100000`);
    }
    const status = STATUS[(get('status') ?? '').toLowerCase()];
    if (!status) c.report('status', `bad status "${get('status')}": active, leave or resigned (在职/休假/离职)`);
    const rawRole = get('role');
    if (!empty(rawRole) && !ROLES.has(rawRole as string)) {
      c.report('role', `bad role "${rawRole}": manager, branch_lead or operator`);
    }
    const skills = text(get('skills'), 'skills', c.report, { max: 255 });
    const accepting = empty(get('accepting')) ? 1 : bool(get('accepting'), 'accepting', c.report);
    if (c.bad()) return null;
    const row: DbRow = { userid: userid!, name: name!, branch_code: branch ?? null, capacity, status };
    if (get('role') !== undefined) row.role = empty(rawRole) ? 'manager' : (rawRole as string);
    if (get('skills') !== undefined)
      row.skills = (skills ?? '')
        .split(/[|;,，、]/)
        .map((s) => s.trim())
        .filter(Boolean)
        .join(',');
    if (get('accepting') !== undefined) row.accepting = accepting ?? 1;
    return row;
  },
};

/** Optional profile columns of a customers file (CSV name → DB column). */
const PROFILE: Record<string, string[]> = {
  asset_tier: ['asset_tier'],
  risk_rating: ['risk_rating'],
  risk_rating_date: ['risk_rated_on'],
  birthday: ['birthday_md'],
  preferred_branch: ['preferred_branch'],
};
const PROFILE_CSV = Object.keys(PROFILE);
const profileColumns = (h: Set<string>) => PROFILE_CSV.filter((c) => h.has(c)).flatMap((c) => PROFILE[c]);

/** 风险等级: the customer ratings C1..C5, also by their usual Chinese names. */
const RISK: Record<string, string> = {
  c1: 'C1',
  c2: 'C2',
  c3: 'C3',
  c4: 'C4',
  c5: 'C5',
  保守型: 'C1',
  稳健型: 'C2',
  平衡型: 'C3',
  成长型: 'C4',
  进取型: 'C5',
};

/** A calendar day as YYYY-MM-DD from 2026-11-03, 2026/11/3 or 20261103; null when not a real day. */
export function parseDay(raw: string): string | null {
  const s = raw.trim();
  const m = /^(\d{4})([-/.])(\d{1,2})\2(\d{1,2})$/.exec(s) ?? /^(\d{4})()(\d{2})(\d{2})$/.exec(s);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[3]), Number(m[4])];
  const t = new Date(Date.UTC(y, mo - 1, d));
  if (t.getUTCFullYear() !== y || t.getUTCMonth() !== mo - 1 || t.getUTCDate() !== d || y < 1900 || y > 2200)
    return null;
  return `${m[1]}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

/**
 * A birthday as MM-DD. A full date is accepted (bank extracts carry one) but only its month and
 * day are kept; messages never echo the value, since a birthdate identifies a person.
 */
export function parseBirthday(raw: string): string | null {
  const s = raw.trim();
  let mo: number;
  let d: number;
  const md = /^(\d{1,2})[-/.月](\d{1,2})日?$/.exec(s);
  if (md) {
    mo = Number(md[1]);
    d = Number(md[2]);
  } else {
    const full = parseDay(s);
    if (!full) return null;
    mo = Number(full.slice(5, 7));
    d = Number(full.slice(8, 10));
  }
  // 2024 is a leap year: 02-29 is a valid birthday.
  const t = new Date(Date.UTC(2024, mo - 1, d));
  if (t.getUTCMonth() !== mo - 1 || t.getUTCDate() !== d) return null;
  return `${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

function parseProfile(get: (csv: string) => string | undefined, report: (c: string, r: string, w?: boolean) => void) {
  const row: DbRow = {};
  if (get('asset_tier') !== undefined) {
    row.asset_tier =
      text(get('asset_tier'), 'asset_tier', report, { max: 16, pattern: SEGMENT, what: 'an asset tier' }) ?? null;
  }
  if (get('risk_rating') !== undefined) {
    const raw = get('risk_rating') ?? '';
    row.risk_rating = raw === '' ? null : (RISK[raw.trim().toLowerCase()] ?? null);
    if (raw !== '' && !row.risk_rating)
      report('risk_rating', `bad risk_rating "${raw}": C1..C5 (保守型/稳健型/平衡型/成长型/进取型)`);
  }
  if (get('risk_rating_date') !== undefined) {
    const raw = get('risk_rating_date') ?? '';
    row.risk_rated_on = raw === '' ? null : parseDay(raw);
    if (raw !== '' && !row.risk_rated_on)
      report('risk_rating_date', `bad risk_rating_date "${raw}": a day as YYYY-MM-DD`);
    if (row.risk_rated_on && get('risk_rating') === '')
      report('risk_rating_date', 'risk_rating_date without a risk_rating', true);
  }
  if (get('risk_rating') && get('risk_rating_date') !== undefined && !get('risk_rating_date'))
    report('risk_rating_date', 'risk_rating without a risk_rating_date: the card cannot tell whether it expired', true);
  if (get('birthday') !== undefined) {
    const raw = get('birthday') ?? '';
    row.birthday_md = raw === '' ? null : parseBirthday(raw);
    if (raw !== '' && !row.birthday_md) report('birthday', 'bad birthday: MM-DD (a full date is cut to MM-DD)');
  }
  if (get('preferred_branch') !== undefined) {
    row.preferred_branch =
      text(get('preferred_branch'), 'preferred_branch', report, { max: 32, pattern: CODE, what: 'a branch code' }) ??
      null;
  }
  return row;
}

export const customersSpec: ImportSpec = {
  kind: 'customers',
  table: 'customers',
  keyCsv: 'customer_id',
  keyColumn: 'id',
  required: ['customer_id', 'name', 'phone', 'segment', 'owner_userid', 'lat', 'lng', 'region_code', 'tags'],
  optional: PROFILE_CSV,
  hasCreatedAt: true,
  refs: [
    {
      csv: 'owner_userid',
      target: 'managers',
      severity: 'warning',
      sameFile: false,
      reason: (v) =>
        `unknown owner: owner_userid "${v}" is not a known manager; kept, and allocation skips it until the manager is imported`,
    },
    {
      csv: 'preferred_branch',
      target: 'branches',
      severity: 'warning',
      sameFile: false,
      reason: (v) => `unknown branch: preferred_branch "${v}" is not in the database; kept`,
    },
  ],
  columnsFor: (h) => [
    'id',
    'masked_name',
    'phone_hash',
    'segment',
    'owner_userid',
    'lat',
    'lng',
    'region_code',
    'bank_tags',
    ...profileColumns(h),
  ],
  parse(get, issue, env) {
    const c = collector(issue);
    const id = text(get('customer_id'), 'customer_id', c.report, {
      required: true,
      max: 64,
      pattern: ID,
      what: 'a customer id',
    });
    const rawName = get('name') ?? '';
    const masked = maskName(rawName);
    if ([...masked].length > 64) c.report('name', 'name is longer than 64 characters');
    const rawPhone = get('phone') ?? '';
    // The number itself never appears in a message: reports and logs may be shared.
    if (rawPhone && !isPlausiblePhone(rawPhone)) c.report('phone', 'phone is not a valid phone number');
    const segment = text(get('segment'), 'segment', c.report, { max: 16, pattern: SEGMENT, what: 'a segment' });
    const owner = text(get('owner_userid'), 'owner_userid', c.report, { max: 64, pattern: ID, what: 'a WeCom userid' });
    const ll = coordinates(get('lat'), get('lng'), c.report, false);
    const region = text(get('region_code'), 'region_code', c.report, { max: 32, pattern: CODE, what: 'a region code' });
    const tags = [
      ...new Set(
        (get('tags') ?? '')
          .split(/[|;,，、]/)
          .map((t) => t.trim())
          .filter(Boolean),
      ),
    ];
    if (tags.some((t) => [...t].length > 32)) c.report('tags', 'a tag is longer than 32 characters');
    const profile = parseProfile(get, c.report);
    if (c.bad() || !ll) return null;
    return {
      ...profile,
      // Stored canonical (trimmed, upper-case) so every later lookup agrees on SQLite and MariaDB.
      id: canonicalCustomerId(id!),
      masked_name: masked,
      phone_hash: rawPhone ? (env.hashPhones === false ? '' : hashPhone(rawPhone, env.phoneSalt)) : null,
      segment: segment ?? null,
      owner_userid: owner ?? null,
      lat: ll.lat,
      lng: ll.lng,
      region_code: region ?? null,
      bank_tags: tags.length ? JSON.stringify(tags) : null,
    };
  },
};

/** Amount bands a holdings file may use (万 = 10,000 yuan); raw amounts are refused, never stored. */
export const AMOUNT_BANDS = ['5万以下', '5-20万', '20-50万', '50-100万', '100-300万', '300万以上'];
const PRODUCT_TYPES: Record<string, string> = {
  deposit: '存款',
  wealth: '理财',
  fund: '基金',
  insurance: '保险',
  bond: '债券',
  other: '其他',
  存款: '存款',
  定期: '存款',
  大额存单: '存款',
  理财: '理财',
  基金: '基金',
  保险: '保险',
  债券: '债券',
  国债: '债券',
  其他: '其他',
};

export const holdingsSpec: ImportSpec = {
  kind: 'holdings',
  table: 'customer_holdings',
  keyCsv: 'customer_id',
  keyColumn: 'id',
  keyOf: (get) => {
    const [c, p, o] = [get('customer_id'), get('product'), get('open_date')];
    if (!c || !p || !o) return undefined;
    return `${c}|${p}|${parseDay(o) ?? o}`;
  },
  required: ['customer_id', 'product', 'product_type', 'amount_band', 'open_date', 'maturity_date'],
  optional: [],
  hasCreatedAt: true,
  refs: [
    {
      csv: 'customer_id',
      target: 'customers',
      severity: 'error',
      sameFile: false,
      reason: (v) => `unknown customer: customer_id "${v}" is not in the database (import customers first)`,
    },
  ],
  columnsFor: () => ['id', 'customer_id', 'product', 'product_type', 'amount_band', 'opened_on', 'matures_on'],
  parse(get, issue) {
    const c = collector(issue);
    const customer = text(get('customer_id'), 'customer_id', c.report, {
      required: true,
      max: 64,
      pattern: ID,
      what: 'a customer id',
    });
    const product = text(get('product'), 'product', c.report, { required: true, max: 64 });
    const rawType = (get('product_type') ?? '').trim();
    const type = PRODUCT_TYPES[rawType.toLowerCase()];
    if (!type) c.report('product_type', `bad product_type "${rawType}": 存款, 理财, 基金, 保险, 债券 or 其他`);
    const rawBand = (get('amount_band') ?? '').trim();
    const band = AMOUNT_BANDS.find((b) => b === rawBand.replace(/\s/g, ''));
    if (!band) {
      // An amount in this column is exactly what must not be kept: the message does not repeat it.
      const looksLikeAmount = /^[¥￥]?[\d,.]+\s*(元|万|万元)?$/.test(rawBand);
      c.report(
        'amount_band',
        looksLikeAmount
          ? `amount_band holds an amount, not a band: give one of ${AMOUNT_BANDS.join(', ')}`
          : `bad amount_band "${rawBand}": one of ${AMOUNT_BANDS.join(', ')}`,
      );
    }
    const rawOpen = get('open_date') ?? '';
    const opened = parseDay(rawOpen);
    if (!opened) c.report('open_date', `bad open_date "${rawOpen}": a day as YYYY-MM-DD`);
    const rawMat = get('maturity_date') ?? '';
    const matures = rawMat === '' ? null : parseDay(rawMat);
    if (rawMat !== '' && !matures)
      c.report('maturity_date', `bad maturity_date "${rawMat}": a day as YYYY-MM-DD, or empty`);
    if (opened && matures && matures < opened) c.report('maturity_date', 'maturity_date is before open_date');
    if (c.bad()) return null;
    return {
      id: `${customer}|${product}|${opened}`,
      customer_id: customer!,
      product: product!,
      product_type: type,
      amount_band: band!,
      opened_on: opened!,
      matures_on: matures,
    };
  },
};

export const SPECS: Record<ImportKind, ImportSpec> = {
  branches: branchesSpec,
  managers: managersSpec,
  customers: customersSpec,
  holdings: holdingsSpec,
};
