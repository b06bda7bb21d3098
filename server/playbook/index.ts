export { httpUrl, MAX_ATTACHMENTS, normaliseAttachments } from './attachments';
export { SCORE, scoreTemplate } from './ranking';
export { splitSegments, TableTemplateProvider } from './table-provider';
export type {
  ImageAttachment,
  LinkAttachment,
  RankedTemplate,
  StoredTemplate,
  SuggestContext,
  TemplateAttachment,
  TemplateCustomer,
  TemplateManager,
  TemplateProvider,
} from './types';
export { fillVariables, salutation } from './variables';
