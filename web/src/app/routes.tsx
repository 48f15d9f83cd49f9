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
import type { ReactNode } from 'react';
import { CoursesPage } from '../features/academics/courses-page.tsx';
import { AttendancePage } from '../features/attendance/attendance-page.tsx';
import { MyAttendancePage } from '../features/attendance/my-attendance-page.tsx';
import { AttendanceReportPage } from '../features/attendance/report-page.tsx';
import { SessionAttendancePage } from '../features/attendance/session-attendance-page.tsx';
import { MyCoursesPage } from '../features/academics/my-courses-page.tsx';
import { OfferingDetailPage } from '../features/academics/offering-detail-page.tsx';
import { OfferingsPage } from '../features/academics/offerings-page.tsx';
import { SemestersPage } from '../features/academics/semesters-page.tsx';
import { GradesDashboardPage } from '../features/grades/dashboard-page.tsx';
import { GradebookPage } from '../features/grades/gradebook-page.tsx';
import { MyGradesPage } from '../features/grades/my-grades-page.tsx';
import { HomePage } from '../features/home/home-page.tsx';
import type { Role } from '../features/identity/api.ts';
import { AuditPage } from '../features/identity/audit-page.tsx';
import { ProfilePage } from '../features/identity/profile-page.tsx';
import { TokensPage } from '../features/identity/tokens-page.tsx';
import { UsersPage } from '../features/identity/users-page.tsx';
import { LoadtestRunPage } from '../features/loadtests/loadtest-run-page.tsx';
import { LoadtestsPage } from '../features/loadtests/loadtests-page.tsx';
import { JobPage } from '../features/analysis/job-page.tsx';
import { LabPage } from '../features/analysis/lab-page.tsx';
import { LedgerPage } from '../features/analysis/ledger-page.tsx';
import { LabelsPage } from '../features/media/labels-page.tsx';
import { PhotosPage } from '../features/media/photos-page.tsx';

export type { Role };

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
