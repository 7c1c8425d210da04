import { A } from '@solidjs/router'
import { PageTitle } from '../components/page-title.tsx'

export default function NotFound () {
  return (
    <section class='card'>
      <PageTitle title='Not found' />
      <h1>Nothing here</h1>
      <p>This page does not exist. Go to the <A href='/'>start page</A> or your <A href='/jobs'>jobs</A>.</p>
    </section>
  )
}
