import { Initial1732400000000 } from './1732400000000-Initial';
import { ScriptLibrary1796312120000 } from './1796312120000-ScriptLibrary';
import { Workbench1796314000000 } from './1796314000000-Workbench';
import { SidebarLinkLimits1796316067000 } from './1796316067000-SidebarLinkLimits';
import { TemplateOutcomes1796316500000 } from './1796316500000-TemplateOutcomes';
import { CustomerGroups1796318437000 } from './1796318437000-CustomerGroups';
import { Campaigns1796319911000 } from './1796319911000-Campaigns';
import { EntryHardening1796320000000 } from './1796320000000-EntryHardening';
import { SopPlans1796330000000 } from './1796330000000-SopPlans';
import { CampaignChurn1796331000000 } from './1796331000000-CampaignChurn';
import { Referrals1796331000001 } from './1796331000001-Referrals';
import { CacheVersions1796332000000 } from './1796332000000-CacheVersions';
import { SidebarRequestKeys1796333500000 } from './1796333500000-SidebarRequestKeys';
import { SopMomentJobs1796334000000 } from './1796334000000-SopMomentJobs';

/** Every migration in order; a new migration file adds its class here. */
export const migrations = [
  Initial1732400000000,
  ScriptLibrary1796312120000,
  Workbench1796314000000,
  SidebarLinkLimits1796316067000,
  TemplateOutcomes1796316500000,
  CustomerGroups1796318437000,
  Campaigns1796319911000,
  EntryHardening1796320000000,
  SopPlans1796330000000,
  CampaignChurn1796331000000,
  Referrals1796331000001,
  CacheVersions1796332000000,
  SidebarRequestKeys1796333500000,
  SopMomentJobs1796334000000,
];
