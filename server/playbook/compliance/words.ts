/**
 * The shipped default list of wording bank marketing rules forbid (资管新规, 银行保险机构消费者权益保护
 * rules: no promise of principal or return, no absolute claims, no confusing wealth products with
 * deposits), each with the explanation the manager sees. Operators add words with
 * `ops compliance words import <file>`; the check uses this list plus the `sensitive_words` table.
 */
export interface SensitiveWordDef {
  word: string;
  note: string;
}

export const DEFAULT_SENSITIVE_WORDS: readonly SensitiveWordDef[] = [
  { word: '保本', note: '承诺保本，违反资管新规打破刚兑的要求' },
  { word: '保本保息', note: '承诺保本保息，属违规宣传' },
  { word: '稳赚', note: '承诺稳赚不赔，属误导性宣传' },
  { word: '稳赚不赔', note: '承诺稳赚不赔，属误导性宣传' },
  { word: '无风险', note: '宣称产品无风险，属误导性宣传' },
  { word: '零风险', note: '宣称产品零风险，属误导性宣传' },
  { word: '收益最高', note: '使用绝对化用语宣传收益' },
  { word: '最高收益', note: '使用绝对化用语宣传收益' },
  { word: '刚性兑付', note: '承诺刚性兑付，违反资管新规' },
  { word: '刚兑', note: '承诺刚性兑付，违反资管新规' },
  { word: '高收益无风险', note: '宣称高收益且无风险，属误导性宣传' },
  { word: '保证收益', note: '承诺保证收益，属违规宣传' },
  { word: '保收益', note: '承诺保证收益，属违规宣传' },
  { word: '包赚', note: '承诺盈利，属误导性宣传' },
  { word: '只赚不赔', note: '承诺盈利，属误导性宣传' },
  { word: '稳定收益', note: '暗示收益确定，属误导性宣传' },
  { word: '收益稳定', note: '暗示收益确定，属误导性宣传' },
  { word: '本金安全', note: '承诺本金安全，属违规宣传' },
  { word: '保值增值', note: '承诺保值增值，属违规宣传' },
  { word: '存款替代', note: '将理财产品与存款混淆' },
  { word: '等同存款', note: '将理财产品与存款混淆' },
  { word: '100%安全', note: '使用绝对化用语宣传安全性' },
];
