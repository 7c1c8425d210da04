import { GuideContents } from '../components/guide-contents.tsx'
import { GuideOverview } from '../components/guide-overview.tsx'
import { GuidePayment } from '../components/guide-payment.tsx'
import { GuidePlatform } from '../components/guide-platform.tsx'
import { GuideTemplate } from '../components/guide-template.tsx'
import { PageTitle } from '../components/page-title.tsx'

export default function Guide () {
  return (
    <>
      <PageTitle title='User guide' />
      <div class='guide'>
        <GuideContents />
        <article class='guide__body'>
          <h1>User guide</h1>
          <GuideOverview />
          <GuideTemplate />
          <GuidePlatform />
          <GuidePayment />
        </article>
      </div>
    </>
  )
}
