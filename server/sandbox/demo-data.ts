import type { RiskClass, TemplateChannel } from '../db/entities/playbook';
import { seededRandom } from '../lib/seeded-random';
import type { TemplateAttachment } from '../playbook';
import type { FakeGroup, FakeSeed, FakeTagGroup } from './fake-types';

/**
 * The demo bank: 杭州示范银行, 7 branches in 杭州 with real-looking coordinates, 20 managers,
 * 60 customers (代发/高潜/流降), owner relations, corp tags, external contacts with follows, and
 * approved script templates. Deterministic (seeded PRNG) so tests and demos see the same corp.
 * Everything here is invented; names are masked the way imports mask them.
 */

export interface DemoBranch {
  code: string;
  name: string;
  lat: number;
  lng: number;
  regionCode: string;
  departmentId: number;
}

export interface DemoManager {
  userid: string;
  name: string;
  branchCode: string;
  role: 'manager' | 'branch_lead' | 'operator';
  capacity: number;
  skills: string;
}

export interface DemoCustomer {
  id: string;
  maskedName: string;
  segment: '代发' | '高潜' | '流降';
  ownerUserid: string | null;
  lat: number;
  lng: number;
  regionCode: string;
  bankTags: string[];
  /**
   * The (fictitious) phone number on file, 1390000 + the customer's number: what a demo customer
   * "tells" the manager when the sidebar asks to link a contact. Stored only as a salted hash.
   */
  phone: string;
  /** Set when the customer already added a manager in WeCom. */
  externalUserid?: string;
  followUserid?: string;
  /** WeChat nickname as WeCom reports it. */
  nickname?: string;
  gender?: number;
  tagIds?: string[];
}

export interface DemoTemplate {
  title: string;
  content: string;
  /** null = any stage (the welcome). */
  stage: number | null;
  segments: string;
  product: string | null;
  variant: string | null;
  disclaimer: string | null;
  channel: TemplateChannel;
  category: string;
  riskClass: RiskClass;
  /** Sent after the text (see TemplateAttachment); the bank's pages live on a placeholder domain. */
  attachments?: TemplateAttachment[];
}

/** Demo scripts are approved for a year from the seed, like a real library's approvals. */
export const DEMO_TEMPLATE_APPROVAL_MS = 365 * 24 * 3_600_000;

/** The review fields of a bank-library script the sandbox seeds as approved (by 'sandbox', for a year). */
export const approvedBySandbox = (now: number) => ({
  ownerUserid: null,
  status: 'approved' as const,
  expiresAt: now + DEMO_TEMPLATE_APPROVAL_MS,
  createdBy: 'sandbox',
  reviewer: 'sandbox',
  submittedAt: now,
  reviewedAt: now,
  createdAt: now,
  updatedAt: now,
});

export const DEMO_RULE_VERSION = 'default-v1';
/** The demo's campaign (seeded into the DB; the period runs from the day before seeding for 90 days). */
export const DEMO_CAMPAIGN = {
  code: 'demo-ljj',
  name: '添加客户经理领立减金（演示）',
  reward: { kind: 'voucher', amount: 10 },
};
export const DEMO_ROOT_DEPARTMENT = { id: 1, name: '杭州示范银行', parentid: 0, order: 1 };

export const DEMO_BRANCHES: DemoBranch[] = [
  { code: 'HZ001', name: '杭州分行营业部', lat: 30.2741, lng: 120.1551, regionCode: '330106', departmentId: 11 },
  { code: 'HZ002', name: '西湖支行', lat: 30.2592, lng: 120.1296, regionCode: '330106', departmentId: 12 },
  { code: 'HZ003', name: '滨江支行', lat: 30.2084, lng: 120.2108, regionCode: '330108', departmentId: 13 },
  { code: 'HZ004', name: '萧山支行', lat: 30.1838, lng: 120.2647, regionCode: '330109', departmentId: 14 },
  { code: 'HZ005', name: '未来科技城支行', lat: 30.2921, lng: 120.0051, regionCode: '330110', departmentId: 15 },
  { code: 'HZ006', name: '拱墅支行', lat: 30.3191, lng: 120.1418, regionCode: '330105', departmentId: 16 },
  { code: 'HZ007', name: '钱江新城支行', lat: 30.2459, lng: 120.2101, regionCode: '330102', departmentId: 17 },
];

export const DEMO_MANAGERS: DemoManager[] = [
  { userid: 'hz_chenjing', name: '陈静', branchCode: 'HZ001', role: 'branch_lead', capacity: 120, skills: '' },
  { userid: 'hz_wangqiang', name: '王强', branchCode: 'HZ001', role: 'manager', capacity: 200, skills: '' },
  { userid: 'hz_liuyang', name: '刘洋', branchCode: 'HZ001', role: 'manager', capacity: 180, skills: 'wealth' },
  { userid: 'hz_zhaomin', name: '赵敏', branchCode: 'HZ002', role: 'branch_lead', capacity: 100, skills: '' },
  { userid: 'hz_sunlei', name: '孙磊', branchCode: 'HZ002', role: 'manager', capacity: 150, skills: '' },
  { userid: 'hz_zhoutingting', name: '周婷婷', branchCode: 'HZ002', role: 'manager', capacity: 150, skills: 'wealth' },
  { userid: 'hz_wujun', name: '吴军', branchCode: 'HZ003', role: 'manager', capacity: 160, skills: '' },
  { userid: 'hz_zhengli', name: '郑丽', branchCode: 'HZ003', role: 'manager', capacity: 160, skills: '' },
  { userid: 'hz_fengtao', name: '冯涛', branchCode: 'HZ003', role: 'branch_lead', capacity: 90, skills: '' },
  { userid: 'hz_hexue', name: '何雪', branchCode: 'HZ004', role: 'manager', capacity: 140, skills: '' },
  { userid: 'hz_luoping', name: '罗平', branchCode: 'HZ004', role: 'manager', capacity: 140, skills: '' },
  { userid: 'hz_gaoyan', name: '高燕', branchCode: 'HZ005', role: 'manager', capacity: 170, skills: 'wealth' },
  { userid: 'hz_linhao', name: '林浩', branchCode: 'HZ005', role: 'manager', capacity: 130, skills: '' },
  { userid: 'hz_xuming', name: '徐明', branchCode: 'HZ006', role: 'manager', capacity: 150, skills: '' },
  { userid: 'hz_mafang', name: '马芳', branchCode: 'HZ006', role: 'branch_lead', capacity: 100, skills: '' },
  { userid: 'hz_huwei', name: '胡伟', branchCode: 'HZ006', role: 'manager', capacity: 150, skills: '' },
  { userid: 'hz_zhuhong', name: '朱红', branchCode: 'HZ007', role: 'manager', capacity: 190, skills: 'wealth' },
  { userid: 'hz_guoqing', name: '郭庆', branchCode: 'HZ007', role: 'manager', capacity: 150, skills: '' },
  { userid: 'hz_yelan', name: '叶兰', branchCode: 'HZ007', role: 'manager', capacity: 8, skills: '' },
  { userid: 'hz_ops', name: '运营小李', branchCode: 'HZ001', role: 'operator', capacity: 0, skills: '' },
];

/** Corp tag library (企业标签) with fixed ids so the DB mirror and the fake agree. `order`: larger first, as in WeCom. */
export const DEMO_TAG_GROUPS: FakeTagGroup[] = [
  {
    group_id: 'etsbxgrp_tier',
    group_name: '客户分层',
    create_time: 1767225600,
    order: 3,
    tag: [
      { id: 'etsbxtag_payroll', name: '代发客户', create_time: 1767225600, order: 3 },
      { id: 'etsbxtag_potential', name: '高潜客户', create_time: 1767225600, order: 2 },
      { id: 'etsbxtag_churn', name: '流失预警', create_time: 1767225600, order: 1 },
    ],
  },
  {
    group_id: 'etsbxgrp_product',
    group_name: '产品偏好',
    create_time: 1767225600,
    order: 2,
    tag: [
      { id: 'etsbxtag_wealth', name: '稳健理财', create_time: 1767225600, order: 4 },
      { id: 'etsbxtag_fund', name: '基金定投', create_time: 1767225600, order: 3 },
      { id: 'etsbxtag_insure', name: '保险保障', create_time: 1767225600, order: 2 },
      { id: 'etsbxtag_card', name: '信用卡', create_time: 1767225600, order: 1 },
    ],
  },
  {
    group_id: 'etsbxgrp_event',
    group_name: '活动',
    create_time: 1767225600,
    order: 1,
    tag: [
      { id: 'etsbxtag_newyear', name: '春节礼遇', create_time: 1767225600, order: 2 },
      { id: 'etsbxtag_payday', name: '代发专享日', create_time: 1767225600, order: 1 },
    ],
  },
];

const SEGMENT_TAG: Record<DemoCustomer['segment'], string> = {
  代发: 'etsbxtag_payroll',
  高潜: 'etsbxtag_potential',
  流降: 'etsbxtag_churn',
};

const SURNAMES =
  '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤';
const GIVEN = '伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国俊峰琳雪梅婷';
const BANK_TAGS = ['代发工资', '理财到期', '房贷客户', '社保卡', '手机银行活跃', '大额存单', '信用卡持卡'];

function makeCustomers(): DemoCustomer[] {
  const rnd = seededRandom(20260101);
  const segments: DemoCustomer['segment'][] = ['代发', '高潜', '流降'];
  const active = DEMO_MANAGERS.filter((m) => m.role !== 'operator');
  const out: DemoCustomer[] = [];
  for (let i = 1; i <= 60; i++) {
    const branch = DEMO_BRANCHES[(i - 1) % DEMO_BRANCHES.length];
    const segment = segments[(i - 1) % 3];
    const surname = SURNAMES[Math.floor(rnd() * SURNAMES.length)];
    const given = GIVEN[Math.floor(rnd() * GIVEN.length)];
    const branchManagers = active.filter((m) => m.branchCode === branch.code);
    // A third of the customers have an owner (管户) in the bank's records.
    const owner = i % 3 === 1 ? branchManagers[Math.floor(rnd() * branchManagers.length)].userid : null;
    const c: DemoCustomer = {
      id: `DEMO${String(i).padStart(4, '0')}`,
      maskedName: `${surname}*${given}`,
      segment,
      ownerUserid: owner,
      // Within ~3 km of the branch they bank at.
      lat: Math.round((branch.lat + (rnd() - 0.5) * 0.05) * 1e6) / 1e6,
      lng: Math.round((branch.lng + (rnd() - 0.5) * 0.05) * 1e6) / 1e6,
      regionCode: branch.regionCode,
      bankTags: [BANK_TAGS[Math.floor(rnd() * BANK_TAGS.length)]],
      phone: `1390000${String(i).padStart(4, '0')}`,
    };
    // Every fifth customer has already added a manager (the owner if any), so the sidebar has someone.
    if (i % 5 === 0 || i % 5 === 1) {
      const follower = owner ?? branchManagers[Math.floor(rnd() * branchManagers.length)].userid;
      c.externalUserid = `wmsbxdemo${String(i).padStart(4, '0')}AAAAbbbbCCCCdddd`;
      c.followUserid = follower;
      c.nickname = `${surname}${rnd() < 0.5 ? '先生' : '女士'}`;
      c.gender = c.nickname.endsWith('先生') ? 1 : 2;
      c.tagIds = [SEGMENT_TAG[segment], ...(i % 2 ? ['etsbxtag_wealth'] : [])];
    }
    out.push(c);
  }
  return out;
}

export const DEMO_CUSTOMERS: DemoCustomer[] = makeCustomers();

const WEALTH_RISK =
  '【风险提示】理财非存款，产品有风险，投资须谨慎。过往业绩不代表未来表现，请根据自身风险承受能力选择产品。';
const FUND_RISK = '【风险提示】基金有风险，投资须谨慎。定投不能保证收益，也不能规避基金投资所固有的风险。';

export const DEMO_TEMPLATES: DemoTemplate[] = [
  {
    title: '欢迎语',
    content:
      '{{客户称呼}}好，我是{{网点}}的客户经理{{客户经理}}，很高兴为您服务！账户、理财、贷款有任何问题都可以随时问我。',
    stage: null,
    segments: '',
    product: null,
    variant: null,
    disclaimer: null,
    channel: 'welcome',
    category: '欢迎语',
    riskClass: 'none',
  },
  // 代发
  {
    title: '代发首次问候',
    content:
      '{{客户称呼}}好，我是{{网点}}的{{客户经理}}。您单位在我行代发工资，工资卡可享跨行转账免费、专属存款利率等权益，需要我帮您开通吗？',
    stage: 1,
    segments: '代发',
    product: null,
    variant: 'A',
    disclaimer: null,
    channel: 'chat',
    category: '问候',
    riskClass: 'none',
  },
  {
    title: '代发权益介绍',
    content: '{{客户称呼}}，代发客户每月可领手机银行专享礼，还可以预约{{网点}}的免排队服务，我把入口发给您～',
    stage: 2,
    segments: '代发',
    product: null,
    variant: null,
    disclaimer: null,
    channel: 'chat',
    category: '权益介绍',
    riskClass: 'none',
  },
  {
    title: '代发理财推荐',
    content: '{{客户称呼}}，工资到账后闲钱可以考虑我行的稳健理财，期限灵活、起点1元。需要的话我帮您看看适合的产品。',
    stage: 3,
    segments: '代发',
    product: '稳健理财',
    variant: null,
    disclaimer: WEALTH_RISK,
    channel: 'chat',
    category: '产品推荐',
    riskClass: 'wealth',
    attachments: [
      {
        type: 'link',
        title: '稳健理财产品介绍',
        url: 'https://bank.example/wealth/steady',
        desc: '期限灵活、1元起购，查看产品说明书与风险揭示',
      },
    ],
  },
  {
    title: '代发客户回访',
    content: '{{客户称呼}}好，最近工资卡用得还顺手吗？有任何问题都可以找我，{{网点}}{{客户经理}}随时为您服务。',
    stage: 4,
    segments: '代发',
    product: null,
    variant: null,
    disclaimer: null,
    channel: 'chat',
    category: '回访',
    riskClass: 'none',
  },
  // 高潜
  {
    title: '高潜首次问候',
    content: '{{客户称呼}}好，我是{{网点}}的客户经理{{客户经理}}，以后由我为您提供一对一的财富规划服务。',
    stage: 1,
    segments: '高潜',
    product: null,
    variant: 'A',
    disclaimer: null,
    channel: 'chat',
    category: '问候',
    riskClass: 'none',
  },
  {
    title: '高潜资产配置',
    content:
      '{{客户称呼}}，根据您的情况我整理了一份稳健型资产配置建议，方便的时候可以到{{网点}}坐坐，或者我线上给您讲讲？',
    stage: 2,
    segments: '高潜',
    product: '稳健理财',
    variant: null,
    disclaimer: WEALTH_RISK,
    channel: 'chat',
    category: '产品推荐',
    riskClass: 'wealth',
    attachments: [
      {
        type: 'link',
        title: '理财产品介绍：稳健型资产配置',
        url: 'https://bank.example/wealth/allocation',
        desc: '杭州示范银行理财产品一览，含风险等级与业绩比较基准',
      },
    ],
  },
  {
    title: '高潜基金定投',
    content: '{{客户称呼}}，基金定投适合长期积累，每月几百元起步即可，我可以帮您挑选几只历史表现稳健的产品参考。',
    stage: 3,
    segments: '高潜',
    product: '基金定投',
    variant: null,
    disclaimer: FUND_RISK,
    channel: 'chat',
    category: '产品推荐',
    riskClass: 'fund',
  },
  {
    title: '高潜活动邀请',
    content: '{{客户称呼}}，本月{{网点}}举办财富沙龙，主题是家庭资产配置，诚邀您参加，需要我帮您预留席位吗？',
    stage: 4,
    segments: '高潜',
    product: null,
    variant: null,
    disclaimer: null,
    channel: 'chat',
    category: '活动邀请',
    riskClass: 'none',
  },
  // 流降
  {
    title: '流降关怀问候',
    content: '{{客户称呼}}好，我是{{网点}}的{{客户经理}}，好久没见您来网点了，最近一切都好吗？有什么需要随时找我。',
    stage: 1,
    segments: '流降',
    product: null,
    variant: 'A',
    disclaimer: null,
    channel: 'chat',
    category: '问候',
    riskClass: 'none',
  },
  {
    title: '流降到期提醒',
    content: '{{客户称呼}}，您之前的理财产品已经到期，资金已回到账户。如需继续配置，我可以为您推荐几款稳健产品。',
    stage: 2,
    segments: '流降',
    product: '稳健理财',
    variant: null,
    disclaimer: WEALTH_RISK,
    channel: 'chat',
    category: '产品推荐',
    riskClass: 'wealth',
  },
  {
    title: '流降专属礼遇',
    content:
      '{{客户称呼}}，为感谢您一直以来的支持，{{网点}}为您准备了一份专属礼遇，方便时到网点领取，或告诉我帮您安排。',
    stage: 3,
    segments: '流降',
    product: null,
    variant: null,
    disclaimer: null,
    channel: 'chat',
    category: '关怀',
    riskClass: 'none',
  },
  {
    title: '流降意见回访',
    content: '{{客户称呼}}好，想听听您对我们服务的意见和建议，我们会认真改进。{{客户经理}}随时在线。',
    stage: 4,
    segments: '流降',
    product: null,
    variant: null,
    disclaimer: null,
    channel: 'chat',
    category: '回访',
    riskClass: 'none',
  },
];

/**
 * One customer group (网点客户维护群) per demo branch, owned by the branch lead (else its first
 * manager), with the branch's other managers and the branch's customers who already added someone.
 * Fixed ids and versions: the first sync finds them, later events change them.
 */
export function demoGroups(): FakeGroup[] {
  const createTime = 1767225600;
  return DEMO_BRANCHES.map((b, i) => {
    const staff = DEMO_MANAGERS.filter((m) => m.branchCode === b.code && m.role !== 'operator');
    const owner = staff.find((m) => m.role === 'branch_lead') ?? staff[0];
    const customers = DEMO_CUSTOMERS.filter((c) => c.externalUserid && staff.some((m) => m.userid === c.followUserid));
    return {
      chat_id: `wrsbxdemo${b.code}groupAAAAbbbb`,
      name: `${b.name}客户维护群`,
      owner: owner.userid,
      create_time: createTime,
      members: [
        { userid: owner.userid, type: 1, join_time: createTime, join_scene: 1 },
        ...staff
          .filter((m) => m.userid !== owner.userid)
          .map((m) => ({ userid: m.userid, type: 1, join_time: createTime + 60, join_scene: 1 })),
        ...customers.map((c, j) => ({
          userid: c.externalUserid as string,
          type: 2,
          join_time: createTime + 3600 * (j + 1),
          join_scene: j % 2 ? 3 : 2,
        })),
      ],
      member_version: `demo${String(i + 1).padStart(2, '0')}memver0000000000000000`,
    };
  });
}

/** The fake corp's state, consistent with the DB seed. */
export function demoFakeSeed(): FakeSeed {
  const branchDept = new Map(DEMO_BRANCHES.map((b) => [b.code, b.departmentId]));
  const createtime = 1767225600;
  return {
    departments: [
      DEMO_ROOT_DEPARTMENT,
      ...DEMO_BRANCHES.map((b, i) => ({ id: b.departmentId, name: b.name, parentid: 1, order: i + 1 })),
    ],
    users: DEMO_MANAGERS.map((m) => {
      const dept = branchDept.get(m.branchCode) ?? 1;
      return {
        userid: m.userid,
        name: m.name,
        department: [dept],
        main_department: dept,
        position: m.role === 'branch_lead' ? '网点负责人' : m.role === 'operator' ? '运营' : '客户经理',
        status: 1,
      };
    }),
    contacts: DEMO_CUSTOMERS.filter((c) => c.externalUserid).map((c) => ({
      external_userid: c.externalUserid as string,
      name: c.nickname as string,
      type: 1,
      gender: c.gender ?? 0,
      avatar: '',
    })),
    follows: DEMO_CUSTOMERS.filter((c) => c.externalUserid).map((c) => ({
      userid: c.followUserid as string,
      external_userid: c.externalUserid as string,
      remark: c.maskedName,
      description: '',
      createtime,
      state: undefined,
      add_way: 1,
      tag_ids: [...(c.tagIds ?? [])],
    })),
    tagGroups: DEMO_TAG_GROUPS,
    groups: demoGroups(),
  };
}
