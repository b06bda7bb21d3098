export { SCORE, scoreTemplate } from './ranking';
export { splitSegments, TableTemplateProvider } from './table-provider';
export type {
  RankedTemplate,
  StoredTemplate,
  SuggestContext,
  TemplateCustomer,
  TemplateManager,
  TemplateProvider,
} from './types';
export { fillVariables, salutation } from './variables';
