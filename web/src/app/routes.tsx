import {
  IconBook2,
  IconCalendarEvent,
  IconChalkboard,
  IconHistory,
  IconHome,
  IconKey,
  IconSchool,
  IconUserCircle,
  IconUsers,
  IconGauge,
  IconChartHistogram,
  IconNotebook,
  IconCertificate,
  IconPhoto,
  IconTags,
  IconFlask,
  IconListDetails,
  IconUserCheck,
  IconCalendarCheck,
  type Icon,
} from '@tabler/icons-react';
import { lazy, type ComponentType, type ReactNode } from 'react';
import type { Role } from '../features/identity/api.ts';

export type { Role };

/**
 * Pages load on demand so the sign-in page and the shell never pull in feature code (charts,
 * tables, upload widgets). The shell wraps its outlet in `Suspense`, which shows the page
 * loader while a page's chunk arrives; a chunk that fails to load surfaces in `RouteError`.
 */
function lazyPage<M extends Record<K, ComponentType>, K extends keyof M>(load: () => Promise<M>, name: K) {
  return lazy(async () => ({ default: (await load())[name] }));
}

const CoursesPage = lazyPage(() => import('../features/academics/courses-page.tsx'), 'CoursesPage');
const AttendancePage = lazyPage(() => import('../features/attendance/attendance-page.tsx'), 'AttendancePage');
const MyAttendancePage = lazyPage(() => import('../features/attendance/my-attendance-page.tsx'), 'MyAttendancePage');
const AttendanceReportPage = lazyPage(() => import('../features/attendance/report-page.tsx'), 'AttendanceReportPage');
const SessionAttendancePage = lazyPage(
  () => import('../features/attendance/session-attendance-page.tsx'),
  'SessionAttendancePage',
);
const MyCoursesPage = lazyPage(() => import('../features/academics/my-courses-page.tsx'), 'MyCoursesPage');
const OfferingDetailPage = lazyPage(
  () => import('../features/academics/offering-detail-page.tsx'),
  'OfferingDetailPage',
);
const OfferingsPage = lazyPage(() => import('../features/academics/offerings-page.tsx'), 'OfferingsPage');
const SemestersPage = lazyPage(() => import('../features/academics/semesters-page.tsx'), 'SemestersPage');
const GradesDashboardPage = lazyPage(() => import('../features/grades/dashboard-page.tsx'), 'GradesDashboardPage');
const GradebookPage = lazyPage(() => import('../features/grades/gradebook-page.tsx'), 'GradebookPage');
const MyGradesPage = lazyPage(() => import('../features/grades/my-grades-page.tsx'), 'MyGradesPage');
const HomePage = lazyPage(() => import('../features/home/home-page.tsx'), 'HomePage');
const AuditPage = lazyPage(() => import('../features/identity/audit-page.tsx'), 'AuditPage');
const ProfilePage = lazyPage(() => import('../features/identity/profile-page.tsx'), 'ProfilePage');
const TokensPage = lazyPage(() => import('../features/identity/tokens-page.tsx'), 'TokensPage');
const UsersPage = lazyPage(() => import('../features/identity/users-page.tsx'), 'UsersPage');
const LoadtestRunPage = lazyPage(() => import('../features/loadtests/loadtest-run-page.tsx'), 'LoadtestRunPage');
const LoadtestsPage = lazyPage(() => import('../features/loadtests/loadtests-page.tsx'), 'LoadtestsPage');
const JobPage = lazyPage(() => import('../features/analysis/job-page.tsx'), 'JobPage');
const LabPage = lazyPage(() => import('../features/analysis/lab-page.tsx'), 'LabPage');
const LedgerPage = lazyPage(() => import('../features/analysis/ledger-page.tsx'), 'LedgerPage');
const LabelsPage = lazyPage(() => import('../features/media/labels-page.tsx'), 'LabelsPage');
const PhotosPage = lazyPage(() => import('../features/media/photos-page.tsx'), 'PhotosPage');

/**
 * One signed-in page. The router and the navbar both read `pages`, so adding a feature page
 * is one entry here. `nav: false` keeps a page out of the navbar (detail pages); `group`
 * is the navbar section it is listed under.
 */
export interface PageDef {
  path: string;
  label: string;
  icon: Icon;
  roles: Role[];
  element: ReactNode;
  nav?: boolean;
  group?: string;
}

const everyone: Role[] = ['admin', 'teacher', 'student'];

/** Navbar sections in display order; pages with another group are listed after these. */
export const NAV_GROUPS = ['Overview', 'Teaching', 'Learning', 'Academics', 'Administration'];

export const pages: PageDef[] = [
  { path: '/', label: 'Home', icon: IconHome, roles: everyone, element: <HomePage />, group: 'Overview' },
  {
    path: '/attendance',
    label: 'Attendance',
    icon: IconUserCheck,
    roles: ['admin', 'teacher'],
    element: <AttendancePage />,
    group: 'Teaching',
  },
  {
    path: '/sessions/:id/attendance',
    label: 'Session attendance',
    icon: IconUserCheck,
    roles: ['admin', 'teacher'],
    element: <SessionAttendancePage />,
    nav: false,
  },
  {
    path: '/offerings/:id/attendance',
    label: 'Attendance report',
    icon: IconUserCheck,
    roles: ['admin', 'teacher'],
    element: <AttendanceReportPage />,
    nav: false,
  },
  {
    path: '/my-attendance',
    label: 'My attendance',
    icon: IconCalendarCheck,
    roles: ['student'],
    element: <MyAttendancePage />,
    group: 'Learning',
  },
  {
    path: '/my-courses',
    label: 'My courses',
    icon: IconSchool,
    roles: ['student'],
    element: <MyCoursesPage />,
    group: 'Learning',
  },
  {
    path: '/offerings',
    label: 'Offerings',
    icon: IconChalkboard,
    roles: ['admin', 'teacher'],
    element: <OfferingsPage />,
    group: 'Academics',
  },
  {
    path: '/offerings/:id',
    label: 'Offering',
    icon: IconChalkboard,
    roles: everyone,
    element: <OfferingDetailPage />,
    nav: false,
  },
  {
    path: '/courses',
    label: 'Courses',
    icon: IconBook2,
    roles: ['admin'],
    element: <CoursesPage />,
    group: 'Academics',
  },
  {
    path: '/semesters',
    label: 'Semesters',
    icon: IconCalendarEvent,
    roles: ['admin'],
    element: <SemestersPage />,
    group: 'Academics',
  },
  {
    path: '/admin/users',
    label: 'Users',
    icon: IconUsers,
    roles: ['admin'],
    element: <UsersPage />,
    group: 'Administration',
  },
  {
    path: '/admin/tokens',
    label: 'API tokens',
    icon: IconKey,
    roles: ['admin'],
    element: <TokensPage />,
    group: 'Administration',
  },
  {
    path: '/admin/audit',
    label: 'Audit log',
    icon: IconHistory,
    roles: ['admin'],
    element: <AuditPage />,
    group: 'Administration',
  },
  {
    path: '/loadtests',
    label: 'Load tests',
    icon: IconGauge,
    roles: ['admin', 'teacher'],
    element: <LoadtestsPage />,
    group: 'Operations',
  },
  {
    path: '/loadtests/:runId',
    label: 'Load test',
    icon: IconGauge,
    roles: ['admin', 'teacher'],
    element: <LoadtestRunPage />,
    nav: false,
  },
  {
    path: '/grades/dashboard',
    label: 'Grades dashboard',
    icon: IconChartHistogram,
    roles: ['admin', 'teacher'],
    element: <GradesDashboardPage />,
    group: 'Teaching',
  },
  {
    path: '/offerings/:id/gradebook',
    label: 'Gradebook',
    icon: IconNotebook,
    roles: ['admin', 'teacher'],
    element: <GradebookPage />,
    nav: false,
  },
  {
    path: '/my-grades',
    label: 'My grades',
    icon: IconCertificate,
    roles: ['student'],
    element: <MyGradesPage />,
    group: 'Learning',
  },
  { path: '/profile', label: 'Profile', icon: IconUserCircle, roles: everyone, element: <ProfilePage />, nav: false },
  {
    path: '/albums',
    label: 'Photos',
    icon: IconPhoto,
    roles: everyone,
    element: <PhotosPage />,
    group: 'Photos & lab',
  },
  {
    path: '/albums/labels',
    label: 'Labels',
    icon: IconTags,
    roles: everyone,
    element: <LabelsPage />,
    group: 'Photos & lab',
  },
  {
    path: '/lab',
    label: 'Analysis lab',
    icon: IconFlask,
    roles: everyone,
    element: <LabPage />,
    group: 'Photos & lab',
  },
  { path: '/lab/jobs/:id', label: 'Analysis', icon: IconFlask, roles: everyone, element: <JobPage />, nav: false },
  {
    path: '/lab/ledger',
    label: 'Prediction ledger',
    icon: IconListDetails,
    roles: everyone,
    element: <LedgerPage />,
    group: 'Photos & lab',
  },
];
