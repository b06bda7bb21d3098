import type { TemplateCustomer, TemplateManager } from './types';

/**
 * Fills {{客户称呼}} {{客户经理}} {{网点}}. The form of address uses only the surname of the masked
 * name plus 先生/女士 from the WeChat gender; without both it falls back to 您 rather than guessing.
 * Unknown placeholders are left as written so a reviewer sees them.
 */
export function salutation(customer: TemplateCustomer | null): string {
  if (!customer) return '您';
  const surname = Array.from(customer.maskedName.trim())[0];
  if (!surname || surname === '*') return '您';
  if (customer.gender === 1) return `${surname}先生`;
  if (customer.gender === 2) return `${surname}女士`;
  return '您';
}

export function fillVariables(text: string, customer: TemplateCustomer | null, manager: TemplateManager): string {
  const values: Record<string, string> = {
    客户称呼: salutation(customer),
    客户经理: manager.name,
    网点: manager.branchName ?? '我行',
  };
  return text.replace(/\{\{\s*([^{}\s]+)\s*\}\}/g, (whole, name: string) => values[name] ?? whole);
}
