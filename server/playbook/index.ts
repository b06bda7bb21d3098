export { httpUrl, MAX_ATTACHMENTS, normaliseAttachments } from './attachments';
export { attribute, CHURN_AFTER_TOUCH_MS, churnedAfter, DEFAULT_ATTRIBUTION_DAYS, isRealSend } from './attribution';
export { loadPerformance, PerformanceSource } from './performance-source';
export { REASON, rankTemplate, rankTemplates, SCORE, scoreTemplate, variantChoices } from './ranking';
export { type LearningOptions, splitSegments, TableTemplateProvider } from './table-provider';
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
export { chooseVariant, posterior, posteriorMean, sampleBeta, wilson } from './variant-performance';
