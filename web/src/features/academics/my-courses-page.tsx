import { Center, EmptyState, SimpleGrid, Skeleton } from '@mantine/core';
import { IconSchool } from '@tabler/icons-react';
import { useQuery } from '@tanstack/react-query';
import { ErrorAlert } from '../../components/error-alert.tsx';
import { PageHeader } from '../../components/page-header.tsx';
import { academicsApi, type Offering } from './api.ts';
import { OfferingCards } from './offering-cards.tsx';

export function useMyEnrollments() {
  return useQuery({
    queryKey: ['offerings', 'mine'],
    queryFn: async (): Promise<Offering[]> => {
      const r = await academicsApi.myEnrollments();
      return Array.isArray(r) ? r : r.items;
    },
  });
}

export function MyCoursesPage() {
  const mine = useMyEnrollments();
  return (
    <>
      <PageHeader title="My courses" description="The courses you are enrolled in this year." />
      {mine.error ? <ErrorAlert error={mine.error} /> : null}
      {mine.isPending ? (
        <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }}>
          {[0, 1, 2].map((i) => (
            <Skeleton key={i} height={150} radius="md" />
          ))}
        </SimpleGrid>
      ) : mine.data && mine.data.length > 0 ? (
        <OfferingCards offerings={mine.data} showCount={false} />
      ) : !mine.error ? (
        <Center mih={300}>
          <EmptyState
            withIndicatorBackground
            icon={<IconSchool size={26} stroke={1.5} />}
            title="You are not enrolled in any course"
            description="Your school enrolls you; ask your teacher or the administration if a course is missing."
          />
        </Center>
      ) : null}
    </>
  );
}
